import hashlib

from django.conf import settings
from django.db import models
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from speakers import validators
from workshop.fragments import version_text

# The fields a speaker edits themselves; their previous values are kept on each change.
PROFILE_FIELDS = [
    "name",
    "pronouns",
    "affiliation",
    "short_bio",
    "bio",
    "photo",
    "website",
    "mastodon",
    "github",
    "orcid",
]
PLACEHOLDER_PHOTO = "images/speaker-placeholder.svg"
# What the speakers list shows: loading no more makes each card's key quick to make.
LISTED_SPEAKER_FIELDS = (
    "name",
    "slug",
    "affiliation",
    "short_bio",
    "photo",
    "thumbnail",
    "published",
)


class SpeakerQuerySet(models.QuerySet):
    def published(self):
        """Return the speakers the public may see."""
        return self.filter(published=True)

    def with_public_talks(self):
        """Load each speaker's published talks into ``public_talks`` (one extra query)."""
        talk_model = Speaker._meta.get_field("talks").related_model
        talks = talk_model.objects.filter(published=True).order_by("title")
        return self.prefetch_related(
            models.Prefetch("talks", queryset=talks, to_attr="public_talks")
        )

    def outline(self):
        """Return (id, versions) of the published speakers in list order, as plain values.

        The versions (the speaker's updated_at and that of each published talk of theirs) find
        each speaker's kept card of the list (workshop/fragments.py); ``listed()`` then loads
        only the speakers whose card must be rendered.
        """
        through = Speaker.talks.through.objects.filter(talk__published=True)
        talks = {}
        for speaker_id, *version in through.order_by("talk__title", "talk_id").values_list(
            "speaker_id", "talk_id", version_text("talk__updated_at")
        ):
            talks.setdefault(speaker_id, []).append(tuple(version))
        return [
            (pk, (updated_at, tuple(talks.get(pk, ()))))
            for pk, updated_at in self.values_list("id", version_text("updated_at"))
        ]

    def listed(self):
        """Return the speakers with what the speakers list shows of them and their talks."""
        talk_model = Speaker._meta.get_field("talks").related_model
        talks = (
            talk_model.objects.filter(published=True)
            .only("title", "slug", "published")
            .order_by("title")
        )
        return self.only(*LISTED_SPEAKER_FIELDS).prefetch_related(
            models.Prefetch("talks", queryset=talks, to_attr="public_talks")
        )


class Speaker(models.Model):
    """A person who speaks at the workshop; may or may not have a user account."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100, unique=True, validators=[validators.validate_not_reserved]
    )
    pronouns = models.CharField(max_length=50, blank=True, help_text="Optional, e.g. she/her.")
    affiliation = models.CharField(max_length=200, blank=True)
    email = models.EmailField(
        "contact e-mail address",
        blank=True,
        help_text="Not shown publicly; invitations go here.",
    )
    short_bio = models.TextField(blank=True, help_text="Markdown, one or two sentences.")
    bio = models.TextField(blank=True, help_text="Markdown.")
    photo = models.ImageField(
        upload_to="speakers/",
        blank=True,
        help_text="JPEG, PNG or WebP, at most 5 MB; shown resized, with its metadata removed.",
    )
    thumbnail = models.ImageField(upload_to="speakers/thumbnails/", blank=True, editable=False)
    website = models.URLField(blank=True, validators=[validators.validate_web_url])
    mastodon = models.CharField(
        max_length=200,
        blank=True,
        validators=[validators.validate_mastodon],
        help_text="Your address, e.g. @name@server.example.",
    )
    github = models.CharField(
        "GitHub user name", max_length=100, blank=True, validators=[validators.validate_github]
    )
    orcid = models.CharField(
        "ORCID iD",
        max_length=19,
        blank=True,
        validators=[validators.validate_orcid],
        help_text="e.g. 0000-0002-1825-0097",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="speaker",
    )
    published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SpeakerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("speakers:detail", kwargs={"slug": self.slug})

    @property
    def photo_url(self):
        """Return the photo's address, or the neutral placeholder's."""
        return self.photo.url if self.photo else static(PLACEHOLDER_PHOTO)

    @property
    def thumbnail_url(self):
        """Return the square thumbnail's address, else the photo's, else the placeholder's."""
        if self.thumbnail:
            return self.thumbnail.url
        return self.photo_url

    @property
    def mastodon_url(self):
        match = validators.MASTODON_PATTERN.match(self.mastodon or "")
        return f"https://{match['host']}/@{match['user']}" if match else ""

    @property
    def github_url(self):
        return f"https://github.com/{self.github}" if self.github else ""

    @property
    def orcid_url(self):
        return f"https://orcid.org/{self.orcid}" if self.orcid else ""


class SpeakerRevision(models.Model):
    """The values a speaker profile had before one change, and who made the change."""

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="revisions")
    previous = models.JSONField(help_text="The profile fields before the change.")
    changed_fields = models.JSONField(default=list)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.speaker} before {self.created_at:%Y-%m-%d %H:%M}"


def hash_token(token):
    """Return the SHA-256 hex digest that an invitation stores instead of its token."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def open(self, now=None):
        """Return the invitations that can still be claimed."""
        now = now or timezone.now()
        return self.filter(claimed_at=None, withdrawn_at=None, expires_at__gt=now)


class Invitation(models.Model):
    """An invitation for someone to claim a speaker profile with their account."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "Claimed"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    speaker = models.ForeignKey(Speaker, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-mail address")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(
        max_length=400,
        blank=True,
        help_text="Why the person is invited, when someone other than the organisers invites "
        "them (a co-author of a proposal); said in the e-mail.",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Invitation of {self.email} to {self.speaker}"

    def status(self, now=None):
        """Return whether the invitation is open, claimed, expired or withdrawn."""
        if self.claimed_at:
            return self.Status.CLAIMED
        if self.withdrawn_at:
            return self.Status.WITHDRAWN
        if self.expires_at <= (now or timezone.now()):
            return self.Status.EXPIRED
        return self.Status.OPEN
