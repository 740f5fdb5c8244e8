"""Spreadsheet of speakers for organisers (see workshop.spreadsheets)."""

from django.conf import settings
from django.db.models import Prefetch

from workshop.spreadsheets import Table


def speaker_rows(speakers):
    """Yield one row per speaker: profile, contact, account and talk titles."""
    talk_model = speakers.model._meta.get_field("talks").related_model
    talks = Prefetch("talks", queryset=talk_model.objects.order_by("title"))
    for speaker in speakers.select_related("user").prefetch_related(talks):
        yield [
            speaker.name,
            speaker.pronouns,
            speaker.affiliation,
            speaker.email,
            speaker.user.email if speaker.user else "",
            speaker.published,
            "; ".join(talk.title for talk in speaker.talks.all()),
            settings.SITE_URL + speaker.get_absolute_url(),
            speaker.website,
            speaker.mastodon_url,
            speaker.github,
            speaker.orcid,
        ]


SPEAKERS = Table(
    name="speakers",
    header=(
        "Name",
        "Pronouns",
        "Affiliation",
        "Contact e-mail",
        "Account e-mail",
        "Published",
        "Talks",
        "Page",
        "Website",
        "Mastodon",
        "GitHub",
        "ORCID iD",
    ),
    rows=speaker_rows,
)
