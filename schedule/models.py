import string
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from workshop.fragments import version_text

# Namespace of the GUIDs in the exports: uuid5(namespace, "<workshop slug>/talk/<id>").
GUID_NAMESPACE = uuid.UUID("6f0c7d62-3b9e-5a8a-9d53-7e0f3c9e41a2")


class TalkQuerySet(models.QuerySet):
    def published(self):
        """Return the talks the public may see."""
        return self.filter(published=True)

    def open_to_speaker_edits(self):
        """Return the talks their speakers edit on the talk's own page.

        A proposal's talk is edited as a proposal, until its call closes; once the authors
        confirm it, it is a talk like any other.
        """
        return self.filter(Q(proposal__isnull=True) | Q(proposal__state=Proposal.State.CONFIRMED))

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
        POSTER = "poster", "Poster"

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

    # The speakers a form is about to save. The many-to-many is written only after the talk's
    # slot on the same admin page has been validated, so the slot is checked with these.
    pending_speakers = None

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

    def speakers_to_check(self):
        """Return the speakers a clash check must use: those being saved, else the stored ones."""
        if self.pending_speakers is not None:
            return list(self.pending_speakers)
        return list(self.speakers.all()) if self.pk else []

    def guid(self, workshop_slug):
        """Return the talk's stable export GUID (never derived from row order)."""
        return uuid.uuid5(GUID_NAMESPACE, f"{workshop_slug}/talk/{self.pk}")


class TalkLink(models.Model):
    """A resource of a talk: a paper, a notebook, a repository."""

    # A talk's page lists every link; more than this is a mistake or abuse, not material.
    MAX_PER_TALK = 20

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


def too_many_links_error(count):
    """Return the error for a talk that would have ``count`` links, over the cap."""
    excess = count - TalkLink.MAX_PER_TALK
    return ValidationError(
        f"A talk has at most {TalkLink.MAX_PER_TALK} links; this would make {count}. "
        f"Remove {excess} link{'s' if excess > 1 else ''} to save.",
        code="too_many_links",
    )


class Room(models.Model):
    """A room or, for an online event, a stage with its stream."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Column order in the grid.")
    stream_url = models.URLField(
        "stream URL", blank=True, help_text="Link to the stage's stream or video call."
    )
    stream_for_ticket_holders = models.BooleanField(
        "stream for ticket holders only",
        default=False,
        help_text=(
            "Keep the stream link off the public pages, exports and calendars; it is shown on "
            "the order page and in the confirmation e-mail of paid orders instead."
        ),
    )
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self):
        return self.name

    @property
    def public_stream_url(self):
        """Return the stream link anyone may see: none when it is for ticket holders only."""
        return "" if self.stream_for_ticket_holders else self.stream_url


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
            .defer("updated_at")
            .annotate(
                slot_version=version_text("updated_at"),
                talk_version=version_text("talk__updated_at"),
                talk_track=F("talk__track"),
            )
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
    if slot.has_talk():
        errors.update(_talk_errors(slot, others))
    return errors


def _talk_errors(slot, others):
    errors = {}
    # A talk added on the same page as its slot has no id yet, hence no other slot.
    taken = others.filter(talk_id=slot.talk_id).first() if slot.talk_id else None
    if taken:
        errors.setdefault("talk", []).append(f"This talk is already placed in “{taken}”.")
    clashes = speaker_clashes(slot, slot.talk.speakers_to_check())
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


# == The call for proposals ==================================================================

# What the organisers' decision e-mails may name; {confirm_url} only where there is a
# confirmation to give.
DECISION_PLACEHOLDERS = {
    "name": "the author's name",
    "title": "the proposal's title",
    "workshop": "the workshop's title",
    "proposal_url": "the proposal's page",
    "confirm_url": "the page where accepted authors confirm; acceptances only",
}
ACCEPT_SUBJECT = "Your proposal “{title}” is accepted"
ACCEPT_BODY = """Dear {name},

we are glad to tell you that your proposal “{title}” is accepted for {workshop}.

Please confirm that you will give it, or tell us that you cannot, here:
{confirm_url}

Once you confirm, your talk and your speaker profile are published on the programme.
"""
REJECT_SUBJECT = "Your proposal “{title}”"
REJECT_BODY = """Dear {name},

thank you for proposing “{title}” for {workshop}. We received many more proposals than the
programme can hold, and we are sorry that we could not accept yours.

You can still see it here: {proposal_url}
"""


def placeholders_in(template):
    """Return the names in ``template``'s {braces}; raise ValueError if it is not a template."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name}


def formatted_placeholders_in(template):
    """Return the names in ``template`` given a format or conversion ({title:d}, {name!r}).

    A format may fail only when the e-mails are sent, or pad a value to any length.
    """
    return {
        name
        for _text, name, spec, conversion in string.Formatter().parse(template)
        if name and (spec or conversion)
    }


def validate_placeholders(template, allowed):
    """Refuse a template that names anything but ``allowed`` or has stray braces."""
    try:
        names = placeholders_in(template)
    except ValueError:
        raise ValidationError(
            "Braces must enclose a placeholder such as {title}; write {{ or }} for a brace."
        ) from None
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        known = ", ".join("{" + name + "}" for name in allowed)
        raise ValidationError(
            f"Unknown placeholder {', '.join('{' + n + '}' for n in unknown)}; use {known}."
        )
    if formatted := sorted(formatted_placeholders_in(template)):
        plain = ", ".join("{" + name + "}" for name in formatted)
        raise ValidationError(f"Write placeholders plainly, as {plain}, without a format.")


class Call(models.Model):
    """A workshop's call for proposals: when it is open, what it offers and asks, how it is
    reviewed and what the authors are told."""

    class Status(models.TextChoices):
        NOT_OPEN = "not_open", "Not open yet"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    workshop = models.OneToOneField(
        "workshop.Workshop", on_delete=models.CASCADE, related_name="call"
    )
    opens_at = models.DateTimeField("opens", help_text="In the workshop's time zone.")
    closes_at = models.DateTimeField(
        "closes",
        help_text="The deadline, in the workshop's time zone: proposals are taken until this "
        "moment, not at it.",
    )
    intro = models.TextField(
        "introduction", blank=True, help_text="Markdown: what the call is about, shown on /call/."
    )
    anonymised_review = models.BooleanField(
        "hide authors from reviewers",
        default=False,
        help_text="Reviewers see the proposals without the authors' names and notes.",
    )
    lowest_score = models.SmallIntegerField(default=1, help_text="The reviewers' scale: from…")
    highest_score = models.SmallIntegerField(default=5, help_text="…to (the best).")
    reviews_wanted = models.PositiveSmallIntegerField(
        default=2,
        validators=[MaxValueValidator(50)],
        help_text="How many reviews each proposal should get.",
    )
    accept_subject = models.CharField(max_length=200, default=ACCEPT_SUBJECT)
    accept_body = models.TextField(default=ACCEPT_BODY)
    reject_subject = models.CharField(max_length=200, default=REJECT_SUBJECT)
    reject_body = models.TextField(default=REJECT_BODY)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "call for proposals"
        verbose_name_plural = "calls for proposals"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="call_closes_after_opening"
            ),
        ]

    def __str__(self):
        return f"Call for proposals of {self.workshop}"

    def clean(self):
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = ["The call must close after it opens."]
        if self.lowest_score >= self.highest_score:
            errors["highest_score"] = ["The best score must be above the lowest."]
        accept = list(DECISION_PLACEHOLDERS)
        reject = [name for name in accept if name != "confirm_url"]
        for field, allowed in [
            ("accept_subject", accept),
            ("accept_body", accept),
            ("reject_subject", reject),
            ("reject_body", reject),
        ]:
            try:
                validate_placeholders(getattr(self, field), allowed)
            except ValidationError as error:
                errors[field] = error.messages
        if errors:
            raise ValidationError(errors)

    def status(self, now=None):
        """Return whether the call is not open yet, open or closed at ``now``."""
        now = now or timezone.now()
        if now < self.opens_at:
            return self.Status.NOT_OPEN
        if now < self.closes_at:
            return self.Status.OPEN
        return self.Status.CLOSED

    def is_open(self, now=None):
        return self.status(now) == self.Status.OPEN

    @property
    def scores(self):
        return range(self.lowest_score, self.highest_score + 1)


class SubmissionType(models.Model):
    """A kind of contribution the call asks for: a talk, a lightning talk, a poster."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="submission_types")
    name = models.CharField(max_length=100)
    kind = models.CharField(
        max_length=20,
        choices=Talk.Kind.choices,
        default=Talk.Kind.TALK,
        help_text="What the accepted talk is in the programme.",
    )
    duration = models.PositiveSmallIntegerField(
        "duration (minutes)", default=30, validators=[MinValueValidator(1)]
    )
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="one_submission_type_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.duration} min)"


class Track(models.Model):
    """A theme of the programme that authors choose for their proposal."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="tracks")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [models.UniqueConstraint(fields=["call", "name"], name="one_track_name")]

    def __str__(self):
        return self.name


class Question(models.Model):
    """A question the call asks beyond the usual ones."""

    class Kind(models.TextChoices):
        TEXT = "text", "Free text"
        CHOICE = "choice", "One of several choices"
        YES_NO = "yes_no", "Yes or no"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField("question", max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    options = models.TextField(blank=True, help_text="For choices: one choice a line.")
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text

    @property
    def option_list(self):
        return [line.strip() for line in self.options.splitlines() if line.strip()]

    def clean(self):
        if self.kind == self.Kind.CHOICE and len(self.option_list) < 2:
            raise ValidationError({"options": "Give at least two choices, one a line."})
        if self.kind != self.Kind.CHOICE and self.option_list:
            raise ValidationError({"options": "Only questions with choices have choices."})


class ProposalQuerySet(models.QuerySet):
    def of_author(self, user):
        """Return the proposals ``user`` is an author of (a speaker of its talk)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(pk__in=Proposal.objects.filter(talk__speakers__user=user).values("pk"))


class Proposal(models.Model):
    """A proposal sent to a call. Its title and texts are those of its talk, which stays
    unpublished until the accepted authors confirm."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Not accepted"
        CONFIRMED = "confirmed", "Confirmed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    code = models.CharField(max_length=12, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="proposals")
    talk = models.OneToOneField(Talk, on_delete=models.CASCADE, related_name="proposal")
    submission_type = models.ForeignKey(
        SubmissionType, on_delete=models.PROTECT, related_name="proposals", verbose_name="type"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.SUBMITTED)
    notes = models.TextField(
        "notes for the organisers",
        blank=True,
        help_text="Not shown publicly; hidden from reviewers when the review is anonymised.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The form's one-time key: the same form sent twice (a double click) makes one proposal.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # The decision the authors were last told of: telling them again is a new decision only.
    told_state = models.CharField(max_length=20, choices=State.choices, blank=True, default="")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("review_proposal", "Can review proposals"),
            ("decide_proposal", "Can accept and reject proposals"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "submission_key"], name="one_proposal_per_form"
            ),
        ]

    def __str__(self):
        return self.talk.title

    def get_absolute_url(self):
        return reverse("schedule:proposal_detail", kwargs={"code": self.code})

    def authored_by(self, user):
        """Return whether ``user`` is one of the proposal's authors."""
        return user.is_authenticated and self.talk.speakers.filter(user=user).exists()


class Availability(models.Model):
    """A time within the workshop when the authors of a proposal can give it.

    A proposal without any may be placed at any time.
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="availabilities")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        verbose_name_plural = "availabilities"
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="availability_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"

    def holds(self, start, end):
        """Return whether [start, end) lies within this time."""
        return self.start <= start and end <= self.end


class Answer(models.Model):
    """An author's answer to one of the call's questions."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "question"], name="one_answer_a_question"),
        ]

    def __str__(self):
        return f"{self.question}: {self.value[:50]}"


class Review(models.Model):
    """One reviewer's score and comment on a proposal; one a reviewer, changed as they like."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proposal_reviews"
    )
    score = models.SmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["proposal", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer"], name="one_review_a_reviewer"),
        ]

    def __str__(self):
        return f"{self.score} for {self.proposal}"
