"""Speakers' part of a person's data: their speaker profile, exported and released on deletion.

A speaker profile of a published talk is part of the public programme the organisers
publish, so deleting the account unlinks it and removes the private contact address, but
keeps the public profile (the organisers remove it on request). A profile without a
published talk has nothing public depending on it: it is hidden and its photo removed.
"""

from django.db import transaction

from speakers.models import PROFILE_FIELDS, Invitation, Speaker


def export_user_data(user):
    """Return the person's speaker profile and its history, as JSON-ready data."""
    speaker = Speaker.objects.filter(user=user).first()
    if speaker is None:
        return {"speaker_profile": None}
    profile = {name: getattr(speaker, name) for name in PROFILE_FIELDS}
    profile["photo"] = speaker.photo.name or ""
    return {
        "speaker_profile": {
            **profile,
            "slug": speaker.slug,
            "contact_email": speaker.email,
            "published": speaker.published,
            "talks": list(speaker.talks.order_by("title").values_list("title", flat=True)),
            "previous_versions": [
                {
                    "changed_at": rev.created_at,
                    "changed_fields": rev.changed_fields,
                    "previous": rev.previous,
                }
                for rev in speaker.revisions.order_by("created_at")
            ],
        }
    }


def has_published_talk(speaker):
    return speaker.talks.filter(published=True).exists()


@transaction.atomic
def erase_user_data(user):
    """Unlink the person's speaker profile; hide it unless a published talk needs it."""
    speaker = Speaker.objects.select_for_update().filter(user=user).first()
    if speaker is None:
        return {"speaker_profile": "none"}
    kept_public = has_published_talk(speaker)
    speaker.user = None
    speaker.email = ""
    if not kept_public:
        speaker.published = False
        speaker.photo.delete(save=False)
        speaker.thumbnail.delete(save=False)
        speaker.revisions.all().delete()
    speaker.save()
    # Open invitations would let the profile be claimed again by whoever holds the link.
    Invitation.objects.open().filter(speaker=speaker).update(withdrawn_at=speaker.updated_at)
    # The addresses invitations were sent to are the private contact address too.
    Invitation.objects.filter(speaker=speaker).update(email="")
    return {"speaker_profile": "kept public" if kept_public else "hidden"}
