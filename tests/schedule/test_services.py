import pytest
from django.core.exceptions import ValidationError

from schedule.models import Slot
from schedule.services import duplicate_slot, find_schedule_problems, swap_talks
from tests.factories import SlotFactory, SpeakerFactory, TalkFactory
from tests.schedule.conftest import at

pytestmark = pytest.mark.django_db


def test_swap_talks_exchanges_the_two_talks(workshop, programme):
    keynote, second = programme["keynote"], programme["second"]
    keynote_talk, second_talk = keynote.talk, second.talk

    swap_talks(first=keynote, second=second)

    keynote.refresh_from_db()
    second.refresh_from_db()
    assert keynote.talk == second_talk
    assert second.talk == keynote_talk


def test_swap_talks_refuses_slot_without_talk_and_changes_nothing(workshop, programme):
    keynote = programme["keynote"]

    with pytest.raises(ValidationError) as error:
        swap_talks(first=keynote, second=programme["welcome"])

    assert error.value.messages == ["Both slots must hold a talk."]
    keynote.refresh_from_db()
    assert keynote.talk.slug == "choosing-metrics"


def test_swap_talks_refuses_same_slot(workshop, programme):
    with pytest.raises(ValidationError) as error:
        swap_talks(first=programme["keynote"], second=programme["keynote"])

    assert error.value.messages == ["Choose two different slots."]


def test_swap_talks_rolls_back_when_swap_creates_speaker_clash(workshop, room, other_room):
    person = SpeakerFactory(name="Mei Tanaka")
    first = SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="A", speakers=[person]),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )
    second = SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="B"),
        start=at(workshop, 14),
        end=at(workshop, 14, 30),
    )
    SlotFactory(
        workshop=workshop,
        room=other_room,
        talk=TalkFactory(title="C", speakers=[person]),
        start=at(workshop, 14),
        end=at(workshop, 14, 30),
    )

    with pytest.raises(ValidationError) as error:
        swap_talks(first=first, second=second)

    assert error.value.messages == [
        "A: Mei Tanaka also speaks in “C (Mon 2 Dec 14:00–14:30 UTC, Hands-on stage)” "
        "at the same time."
    ]
    assert Slot.objects.get(pk=first.pk).talk.title == "A"
    assert Slot.objects.get(pk=second.pk).talk.title == "B"


def test_duplicate_slot_adds_copy_right_after_without_talk(workshop, programme):
    original = programme["break"]

    copy = duplicate_slot(slot=original)

    assert (copy.start, copy.end) == (at(workshop, 14), at(workshop, 14, 20))
    assert (copy.title, copy.is_break, copy.room, copy.talk) == ("Break", True, None, None)


def test_duplicate_slot_of_talk_keeps_title_not_talk(workshop, room):
    slot = SlotFactory(
        workshop=workshop, room=room, talk=TalkFactory(title="Pipelines"), start=at(workshop, 15)
    )

    copy = duplicate_slot(slot=slot)

    assert (copy.title, copy.talk, copy.room) == ("Pipelines", None, room)
    assert (copy.start, copy.end) == (at(workshop, 15, 30), at(workshop, 16))


def test_duplicate_slot_refuses_when_next_time_is_taken(workshop, programme):
    with pytest.raises(ValidationError) as error:
        duplicate_slot(slot=programme["welcome"])

    assert error.value.messages[0].startswith(
        "Overlaps “Choosing metrics (Mon 2 Dec 13:10–13:40 UTC"
    )


def test_schedule_check_of_clean_programme_is_empty(workshop, programme):
    assert find_schedule_problems(workshop) == []


def test_schedule_check_lists_every_problem_at_once(workshop, room, other_room):
    shared = SpeakerFactory(name="Jonas Weber")
    no_bio = SpeakerFactory(name="Priya Raman", bio="", short_bio="")
    first = TalkFactory(title="First", speakers=[shared])
    # Rows written around validation, as an import or an old database could hold them.
    Slot.objects.bulk_create(
        [
            Slot(
                workshop=workshop,
                room=room,
                talk=first,
                start=at(workshop, 13),
                end=at(workshop, 13, 30),
            ),
            Slot(
                workshop=workshop,
                room=room,
                title="Overlap",
                start=at(workshop, 13, 15),
                end=at(workshop, 13, 45),
            ),
            Slot(
                workshop=workshop,
                room=other_room,
                talk=TalkFactory(title="Second", speakers=[shared]),
                start=at(workshop, 13, 20),
                end=at(workshop, 13, 40),
            ),
            Slot(
                workshop=workshop,
                room=room,
                title="Late",
                start=at(workshop, 17, 30),
                end=at(workshop, 18, 30),
            ),
            Slot(
                workshop=workshop,
                room=room,
                talk=TalkFactory(title="Draft", published=False),
                start=at(workshop, 16),
                end=at(workshop, 16, 30),
            ),
        ]
    )
    TalkFactory(title="Forgotten", speakers=[no_bio])

    problems = find_schedule_problems(workshop)

    assert [(problem.kind, problem.message) for problem in problems] == [
        (
            "unpublished",
            "“Draft (Mon 2 Dec 16:00–16:30 UTC, Main stage)” holds an unpublished talk.",
        ),
        ("out_of_range", "“Late (Mon 2 Dec 17:30–18:30 UTC, Main stage)” is outside the workshop."),
        (
            "overlap",
            "“First (Mon 2 Dec 13:00–13:30 UTC, Main stage)” "
            "overlaps “Overlap (Mon 2 Dec 13:15–13:45 UTC, Main stage)”.",
        ),
        (
            "speaker_clash",
            "Jonas Weber speaks in “First (Mon 2 Dec 13:00–13:30 UTC, Main stage)” "
            "and in “Second (Mon 2 Dec 13:20–13:40 UTC, Hands-on stage)”.",
        ),
        ("unscheduled", "“Forgotten” is published but has no slot."),
        ("no_bio", "Priya Raman has no biography."),
        (
            "gap",
            "Nothing happens for 135 min between “Overlap (Mon 2 Dec 13:15–13:45 UTC, Main stage)” "
            "and “Draft (Mon 2 Dec 16:00–16:30 UTC, Main stage)”.",
        ),
        (
            "gap",
            "Nothing happens for 60 min between “Draft (Mon 2 Dec 16:00–16:30 UTC, Main stage)” "
            "and “Late (Mon 2 Dec 17:30–18:30 UTC, Main stage)”.",
        ),
    ]
    assert problems[1].label == "Outside the workshop"
