"""Writes to the schedule and the whole-schedule check."""

import dataclasses
import datetime as dt

from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from schedule.models import (
    Proposal,
    Slot,
    Talk,
    TalkLink,
    slot_errors,
    speaker_clashes,
    too_many_links_error,
)
from schedule.proposals import describe_availability
from workshop.cache import bump_content_version
from workshop.models import Workshop


def lock_schedule(workshop_id):
    """Hold the workshop row's lock until the transaction ends.

    The rules across slots (overlaps, speakers, one slot per talk) are checked by reading
    the other slots; with the lock, two editors of one workshop validate one after the other.
    """
    list(Workshop.objects.select_for_update().filter(pk=workshop_id).values_list("pk"))


@transaction.atomic
def save_slot(*, slot):
    """Validate and save a slot under the schedule lock."""
    lock_schedule(slot.workshop_id)
    slot.full_clean()
    slot.save()
    return slot


@transaction.atomic
def check_speakers(*, slot, speakers):
    """Return a message per slot where one of ``speakers`` speaks at the time of ``slot``.

    Call it in the transaction that saves the speakers: the schedule lock, held until that
    transaction ends, keeps another organiser from placing a clashing slot meanwhile.
    """
    lock_schedule(slot.workshop_id)
    return speaker_clashes(slot, list(speakers))


@transaction.atomic
def save_speaker_edit(*, form, links, user):
    """Save a speaker's changes to their talk and its links, and log them for the organisers.

    Raise ValidationError, keeping nothing, when the talk would end with too many links.
    """
    # The formset counted the links before this lock; two saves at once (two tabs, two
    # speakers) each within the cap alone are counted together here.
    list(Talk.objects.select_for_update().filter(pk=form.instance.pk).values_list("pk"))
    talk = form.save()
    links.save()
    if (count := talk.links.count()) > TalkLink.MAX_PER_TALK:
        raise too_many_links_error(count)
    changed = [str(form.fields[name].label) for name in form.changed_data]
    if links.has_changed():
        changed.append("Links")
    if changed:
        # Organisers see the speaker's edit in the talk's admin history.
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[talk],
            action_flag=CHANGE,
            change_message=[{"changed": {"fields": changed}}],
            single_object=True,
        )
    return talk


@transaction.atomic
def swap_talks(*, first, second):
    """Swap the talks of two slots in one transaction; refuse if the result breaks a rule.

    Row-by-row editing cannot do this: each half of the swap would place a talk in
    two slots at once.
    """
    if first.pk == second.pk:
        raise ValidationError("Choose two different slots.")
    lock_schedule(first.workshop_id)
    locked = Slot.objects.select_for_update().filter(pk__in=[first.pk, second.pk]).order_by("pk")
    slots = {slot.pk: slot for slot in locked}
    first, second = slots[first.pk], slots[second.pk]
    if not (first.talk_id and second.talk_id):
        raise ValidationError("Both slots must hold a talk.")
    first_talk, second_talk = first.talk_id, second.talk_id
    # The one-slot-per-talk constraint is checked per row, so free one slot first.
    Slot.objects.filter(pk=first.pk).update(talk=None)
    Slot.objects.filter(pk=second.pk).update(talk=first_talk, updated_at=timezone.now())
    Slot.objects.filter(pk=first.pk).update(talk=second_talk, updated_at=timezone.now())
    # update() sends no signals: make the cached schedule pages stale here.
    bump_content_version()
    for slot in (first, second):
        slot.refresh_from_db()
        errors = slot_errors(slot)
        if errors:
            messages = [message for field in errors.values() for message in field]
            raise ValidationError([f"{slot.display_title}: {message}" for message in messages])
    return first, second


def duplicate_slot(*, slot):
    """Copy a slot, without its talk, to the time right after it in the same room."""
    copy = Slot(
        workshop=slot.workshop,
        room=slot.room,
        start=slot.end,
        end=slot.end + slot.duration,
        title=slot.title or slot.display_title,
        is_break=slot.is_break,
    )
    return save_slot(slot=copy)


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem of the schedule, for the organisers' check list."""

    kind: str
    message: str
    slot: Slot | None = None
    talk: Talk | None = None
    speaker: object = None

    KINDS = {
        "invalid": "Invalid slot",
        "out_of_range": "Outside the workshop",
        "overlap": "Overlap in a room",
        "speaker_clash": "Speaker in two places",
        "empty": "Empty slot",
        "unpublished": "Unpublished talk in the schedule",
        "unscheduled": "Published talk not scheduled",
        "no_bio": "Speaker without a bio",
        "gap": "Gap in the programme",
        "unavailable": "Outside the authors' availability",
    }

    @property
    def label(self):
        return self.KINDS[self.kind]


def find_schedule_problems(workshop):
    """Return every problem of ``workshop``'s schedule at once, in a fixed order."""
    slots = list(
        Slot.objects.filter(workshop=workshop)
        .select_related("talk", "room", "workshop")
        .prefetch_related("talk__speakers", "talk__proposal__availabilities")
        .order_by("start", "end", "id")
    )
    problems = []
    problems += _slot_problems(workshop, slots)
    problems += [
        Problem("unavailable", message, slot=slot)
        for slot in slots
        if (message := availability_problem(slot))
    ]
    problems += _clash_problems(slots)
    problems += _talk_problems(slots)
    problems += _gap_problems(slots)
    return problems


def proposed_length(talk):
    """Return how long ``talk`` lasts as its type in the call says, or None if not proposed."""
    proposal = Proposal.objects.filter(talk=talk).select_related("submission_type").first()
    if proposal is None:
        return None
    return dt.timedelta(minutes=proposal.submission_type.duration)


def availability_problem(slot):
    """Return why ``slot`` is outside the times its talk's authors can present, or None."""
    proposal = getattr(slot.talk, "proposal", None) if slot.talk_id else None
    times = list(proposal.availabilities.all()) if proposal else []
    if not times or any(time.holds(slot.start, slot.end) for time in times):
        return None
    can = describe_availability(times, slot.workshop.tzinfo)
    return f"“{slot}” is outside the times its authors can present: {can}."


def _slot_problems(workshop, slots):
    problems = []
    for slot in slots:
        if slot.end <= slot.start:
            problems.append(Problem("invalid", f"“{slot}” ends before it starts.", slot=slot))
        if slot.start < workshop.starts_at or slot.end > workshop.ends_at:
            problems.append(
                Problem("out_of_range", f"“{slot}” is outside the workshop.", slot=slot)
            )
        if not slot.talk_id and not slot.title:
            problems.append(
                Problem("empty", f"“{slot}” has neither a talk nor a title.", slot=slot)
            )
        if slot.talk_id and not slot.talk.published:
            problems.append(
                Problem("unpublished", f"“{slot}” holds an unpublished talk.", slot=slot)
            )
    return problems


def _clash_problems(slots):
    problems = []
    for index, slot in enumerate(slots):
        for other in slots[index + 1 :]:
            if other.start >= slot.end:
                break
            if slot.room_id is None or other.room_id is None or slot.room_id == other.room_id:
                problems.append(Problem("overlap", f"“{slot}” overlaps “{other}”.", slot=slot))
            if slot.talk_id and other.talk_id:
                shared = {s.pk: s for s in slot.talk.speakers.all()}
                for speaker in other.talk.speakers.all():
                    if speaker.pk in shared:
                        message = f"{speaker.name} speaks in “{slot}” and in “{other}”."
                        problems.append(
                            Problem("speaker_clash", message, slot=slot, speaker=speaker)
                        )
    return problems


def _talk_problems(slots):
    problems = []
    scheduled = {slot.talk_id for slot in slots if slot.talk_id}
    talks = Talk.objects.published().prefetch_related("speakers").order_by("title")
    speakers = {}
    for talk in talks:
        if talk.pk not in scheduled:
            problems.append(
                Problem("unscheduled", f"“{talk}” is published but has no slot.", talk=talk)
            )
        for speaker in talk.speakers.all():
            speakers.setdefault(speaker.pk, speaker)
    for speaker in sorted(speakers.values(), key=lambda s: s.name):
        if not speaker.bio.strip() and not speaker.short_bio.strip():
            problems.append(Problem("no_bio", f"{speaker.name} has no biography.", speaker=speaker))
    return problems


def _gap_problems(slots):
    """Report the times between slots when nothing at all happens."""
    problems = []
    latest_end = None
    latest_slot = None
    for slot in slots:
        if latest_end is not None and slot.start > latest_end:
            minutes = (slot.start - latest_end) // dt.timedelta(minutes=1)
            problems.append(
                Problem(
                    "gap",
                    f"Nothing happens for {minutes} min between “{latest_slot}” and “{slot}”.",
                    slot=slot,
                )
            )
        if latest_end is None or slot.end > latest_end:
            latest_end, latest_slot = slot.end, slot
    return problems
