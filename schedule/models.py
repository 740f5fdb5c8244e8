import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

# Namespace of the GUIDs in the exports: uuid5(namespace, "<workshop slug>/talk/<id>").
GUID_NAMESPACE = uuid.UUID("6f0c7d62-3b9e-5a8a-9d53-7e0f3c9e41a2")


class TalkQuerySet(models.QuerySet):
    def published(self):
        """Return the talks the public may see."""
        return self.filter(published=True)

    def with_schedule(self):
        """Return the talks with their slot, room and speakers loaded in constant queries."""
        published_speakers = models.Prefetch(
            "speakers", queryset=_published_speakers(), to_attr="public_speakers"
        )
        return self.select_related("slot__room", "slot__workshop").prefetch_related(
            published_speakers, "links"
        )

    def listed(self):
        """Return the talks with what the talks list shows of them and no more.

        Each talk's piece of the list is kept under a hash of what was loaded for it
        (workshop/fragments.py), so loading less makes that hash quicker too.
        """
        published_speakers = models.Prefetch(
            "speakers",
            queryset=_published_speakers().only("name", "slug", "published"),
            to_attr="public_speakers",
        )
        return (
            self.only(*LISTED_TALK_FIELDS)
            .select_related("slot__room")
            .prefetch_related(published_speakers)
        )

    def outline(self):
        """Return the talks with slot and room, but of them and their speakers only versions.

        Enough to order the talks list and find each talk's kept piece (workshop/fragments.py);
        ``listed()`` then loads only the talks whose piece must be rendered.
        """
        return (
            self.defer(*TALK_CONTENT_FIELDS)
            .select_related("slot__room")
            .prefetch_related(_speaker_versions("speakers"))
        )


# What an outline leaves out of a talk: its updated_at tells whether any of it changed.
TALK_CONTENT_FIELDS = (
    "title",
    "slug",
    "kind",
    "abstract",
    "description",
    "level",
    "language",
    "slides_url",
    "video_url",
    "created_at",
)
LISTED_TALK_FIELDS = (
    "title",
    "slug",
    "kind",
    "abstract",
    "published",
    "slot__start",
    "slot__end",
    "slot__talk",
    "slot__room",
    "slot__room__name",
)
# What the programme (schedule grid and exports) shows of a speaker.
PROGRAMME_SPEAKER_FIELDS = ("name", "slug", "photo", "short_bio", "published")


def _published_speakers():
    from speakers.models import Speaker

    return Speaker.objects.published().order_by("name")


def _speaker_versions(lookup):
    """Prefetch the published speakers at ``lookup`` with only what tells their version."""
    return models.Prefetch(
        lookup,
        queryset=_published_speakers().only("updated_at", "published"),
        to_attr="public_speakers",
    )


class Talk(models.Model):
    """A talk, keynote, tutorial or other session, with or without a place in the schedule."""

    class Kind(models.TextChoices):
        TALK = "talk", "Talk"
        KEYNOTE = "keynote", "Keynote"
        TUTORIAL = "tutorial", "Tutorial"
        PANEL = "panel", "Panel"
        INTERACTIVE = "interactive", "Interactive session"
        LIGHTNING = "lightning", "Lightning talk"

    class Level(models.TextChoices):
        ANY = "", "Everyone"
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TALK)
    abstract = models.TextField(blank=True, help_text="Markdown, a short paragraph.")
    description = models.TextField(blank=True, help_text="Markdown, optional longer text.")
    speakers = models.ManyToManyField("speakers.Speaker", related_name="talks", blank=True)
    track = models.CharField(
        max_length=100, blank=True, help_text="Theme, e.g. Evaluation or Pipelines."
    )
    level = models.CharField(max_length=20, choices=Level.choices, blank=True, default="")
    language = models.CharField(max_length=10, default="en", help_text="Language code, e.g. en.")
    slides_url = models.URLField("slides URL", blank=True)
    video_url = models.URLField("video URL", blank=True)
    published = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TalkQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("schedule:talk_detail", kwargs={"slug": self.slug})

    @property
    def scheduled_slot(self):
        """Return the talk's slot, or None when it is not scheduled."""
        try:
            return self.slot
        except Slot.DoesNotExist:
            return None

    def guid(self, workshop_slug):
        """Return the talk's stable export GUID (never derived from row order)."""
        return uuid.uuid5(GUID_NAMESPACE, f"{workshop_slug}/talk/{self.pk}")


class TalkLink(models.Model):
    """A resource of a talk: a paper, a notebook, a repository."""

    class Kind(models.TextChoices):
        # The frab / c3voc exports accept only these link types.
        PAPER = "paper", "Paper"
        WEB = "web", "Web page"
        BLOG = "blog", "Blog post"
        ARTICLE = "article", "Article"
        MEDIA = "media", "Media"
        RELATED = "related", "Related"

    talk = models.ForeignKey(Talk, on_delete=models.CASCADE, related_name="links")
    title = models.CharField(max_length=200)
    url = models.URLField("URL")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WEB)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class Room(models.Model):
    """A room or, for an online event, a stage with its stream."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Column order in the grid.")
    stream_url = models.URLField(
        "stream URL", blank=True, help_text="Link to the stage's stream or video call."
    )
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class SlotQuerySet(models.QuerySet):
    def overlapping(self, start, end):
        """Return the slots that share time with [start, end); back-to-back is not overlap."""
        return self.filter(start__lt=end, end__gt=start)

    def in_room(self, room):
        """Return the slots that use ``room``; a slot without a room uses every room."""
        if room is None:
            return self
        return self.filter(Q(room=room) | Q(room__isnull=True))

    def public(self):
        """Return the slots the public sees: plain slots and those of published talks."""
        return self.filter(Q(talk__isnull=True) | Q(talk__published=True))

    def programme(self, workshop):
        """Return ``workshop``'s public slots with talks, rooms and speakers (three queries)."""
        published_speakers = models.Prefetch(
            "talk__speakers",
            queryset=_published_speakers().only(*PROGRAMME_SPEAKER_FIELDS),
            to_attr="public_speakers",
        )
        return (
            self.filter(workshop=workshop)
            .public()
            .select_related("talk", "room")
            # As a list: a prefetched manager builds a queryset per talk (a third of the time).
            .prefetch_related(
                published_speakers, models.Prefetch("talk__links", to_attr="link_list")
            )
            .order_by("start", "room__position", "room__name", "id")
        )

    def outline(self, workshop):
        """Return ``workshop``'s public slots, with of their talks only version and track.

        Enough to lay out the schedule and the exports and to find their kept pieces
        (workshop/fragments.py); ``programme()`` then loads only the slots to render.
        """
        return (
            self.filter(workshop=workshop)
            .public()
            .annotate(talk_version=F("talk__updated_at"), talk_track=F("talk__track"))
            .order_by("start", "room__position", "room__name", "id")
        )


class Slot(models.Model):
    """A time in the programme: a talk in a room, or a plain item such as a break."""

    workshop = models.ForeignKey(
        "workshop.Workshop", on_delete=models.CASCADE, related_name="slots"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    room = models.ForeignKey(
        Room,
        on_delete=models.PROTECT,
        related_name="slots",
        null=True,
        blank=True,
        help_text="Empty: for everyone, across all rooms (welcome, breaks, closing).",
    )
    talk = models.OneToOneField(
        Talk,
        on_delete=models.SET_NULL,
        related_name="slot",
        null=True,
        blank=True,
        help_text="A talk is placed in at most one slot.",
    )
    title = models.CharField(
        max_length=200, blank=True, help_text="For slots without a talk: Welcome, Break..."
    )
    is_break = models.BooleanField(default=False, help_text="A pause: shown as a break.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = SlotQuerySet.as_manager()

    class Meta:
        ordering = ["start", "room__position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.display_title} ({self.describe_time()}, {self.room or 'all rooms'})"

    @property
    def display_title(self):
        if self.talk_id:
            return self.talk.title
        return self.title or "Untitled slot"

    @property
    def duration(self):
        return self.end - self.start

    def describe_time(self):
        """Return the slot's time in the workshop's zone, e.g. "Fri 2 Dec 13:00–13:30 UTC"."""
        if not (self.start and self.end):
            return "no time"
        zone = self.workshop.tzinfo if self.workshop_id else timezone.get_current_timezone()
        start = timezone.localtime(self.start, zone)
        end = timezone.localtime(self.end, zone)
        return f"{start:%a %-d %b %H:%M}–{end:%H:%M} {start.tzname()}"

    def is_running(self, now):
        return self.start <= now < self.end

    def has_talk(self):
        # In the talk admin's inline a new talk is attached before it is saved, so
        # talk_id is still None although the slot does have a talk.
        return self.talk_id is not None or (Slot.talk.is_cached(self) and self.talk is not None)

    def clean(self):
        if self.has_talk() and self.title:
            raise ValidationError(
                {"title": "A slot with a talk takes the talk's title; leave this empty."}
            )
        if not self.has_talk() and not self.title:
            raise ValidationError(
                {"title": "Choose a talk or give the slot a title (Break, Welcome...)."}
            )
        if not (self.start and self.end and self.workshop_id):
            return
        if self.end <= self.start:
            raise ValidationError({"end": "The slot must end after it starts."})
        errors = slot_errors(self)
        if errors:
            raise ValidationError(errors)


def slot_errors(slot):
    """Return {field: [messages]} for the rules across slots that ``slot`` breaks."""
    errors = {}
    workshop = slot.workshop
    if slot.start < workshop.starts_at or slot.end > workshop.ends_at:
        start = timezone.localtime(workshop.starts_at, workshop.tzinfo)
        end = timezone.localtime(workshop.ends_at, workshop.tzinfo)
        errors.setdefault("start", []).append(
            f"The slot must be inside the workshop, {start:%a %-d %b %Y %H:%M}–"
            f"{end:%a %-d %b %Y %H:%M} {start.tzname()}."
        )
    others = (
        Slot.objects.filter(workshop=workshop)
        .exclude(pk=slot.pk)
        .select_related("talk", "room", "workshop")
    )
    for other in others.overlapping(slot.start, slot.end).in_room(slot.room):
        errors.setdefault("start", []).append(f"Overlaps “{other}”.")
    if slot.talk_id:
        errors.update(_talk_errors(slot, others))
    return errors


def _talk_errors(slot, others):
    errors = {}
    taken = others.filter(talk_id=slot.talk_id).first()
    if taken:
        errors.setdefault("talk", []).append(f"This talk is already placed in “{taken}”.")
    clashes = speaker_clashes(slot, list(slot.talk.speakers.all()))
    if clashes:
        errors["talk"] = errors.get("talk", []) + clashes
    return errors


def speaker_clashes(slot, speakers):
    """Return a message for each other slot where one of ``speakers`` speaks during ``slot``."""
    clashes = (
        Slot.objects.filter(workshop_id=slot.workshop_id)
        .exclude(pk=slot.pk)
        .overlapping(slot.start, slot.end)
        .filter(talk__speakers__in=speakers)
        .select_related("talk", "room", "workshop")
        .prefetch_related("talk__speakers")
        .distinct()
    )
    wanted = {speaker.pk for speaker in speakers}
    messages = []
    for other in clashes:
        names = sorted(s.name for s in other.talk.speakers.all() if s.pk in wanted)
        messages.append(f"{', '.join(names)} also speaks in “{other}” at the same time.")
    return messages
