import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from schedule.models import Slot, Talk
from tests.factories import SlotFactory, SpeakerFactory, TalkFactory
from tests.schedule.conftest import at

pytestmark = pytest.mark.django_db


def messages_of(error):
    return [message for messages in error.message_dict.values() for message in messages]


def test_slot_end_before_start_is_refused(workshop, room):
    slot = SlotFactory.build(
        workshop=workshop,
        room=room,
        talk=TalkFactory(),
        start=at(workshop, 14),
        end=at(workshop, 13, 30),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["end"] == ["The slot must end after it starts."]


def test_slot_end_equal_to_start_is_refused_by_database(workshop, room):
    with pytest.raises(IntegrityError):
        SlotFactory(workshop=workshop, room=room, start=at(workshop, 14), end=at(workshop, 14))


def test_slot_outside_workshop_is_refused(workshop, room):
    slot = SlotFactory.build(
        workshop=workshop,
        room=room,
        talk=TalkFactory(),
        start=at(workshop, 17, 45),
        end=at(workshop, 18, 15),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["start"] == [
        "The slot must be inside the workshop, Mon 2 Dec 2030 13:00–Mon 2 Dec 2030 18:00 UTC."
    ]


def test_slot_overlapping_in_same_room_names_the_clashing_slot(workshop, room):
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="First talk"),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )
    slot = SlotFactory.build(
        workshop=workshop,
        room=room,
        talk=TalkFactory(),
        start=at(workshop, 13, 20),
        end=at(workshop, 13, 50),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["start"] == [
        "Overlaps “First talk (Mon 2 Dec 13:00–13:30 UTC, Main stage)”."
    ]


def test_slot_back_to_back_in_same_room_is_fine(workshop, room):
    SlotFactory(workshop=workshop, room=room, start=at(workshop, 13), end=at(workshop, 13, 30))
    slot = SlotFactory.build(
        workshop=workshop,
        room=room,
        talk=TalkFactory(),
        start=at(workshop, 13, 30),
        end=at(workshop, 14),
    )

    slot.full_clean()


def test_slot_at_same_time_in_other_room_is_fine(workshop, room, other_room):
    SlotFactory(workshop=workshop, room=room, start=at(workshop, 13), end=at(workshop, 13, 30))
    slot = SlotFactory.build(
        workshop=workshop,
        room=other_room,
        talk=TalkFactory(),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )

    slot.full_clean()


def test_slot_for_all_rooms_overlaps_every_room(workshop, room):
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="Room talk"),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )
    slot = SlotFactory.build(
        workshop=workshop,
        room=None,
        talk=None,
        title="Break",
        start=at(workshop, 13, 15),
        end=at(workshop, 13, 45),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["start"] == [
        "Overlaps “Room talk (Mon 2 Dec 13:00–13:30 UTC, Main stage)”."
    ]


def test_speaker_in_two_overlapping_slots_is_refused(workshop, room, other_room):
    speaker = SpeakerFactory(name="Kofi Mensah")
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="Talk A", speakers=[speaker]),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )
    slot = SlotFactory.build(
        workshop=workshop,
        room=other_room,
        talk=TalkFactory(title="Talk B", speakers=[speaker, SpeakerFactory()]),
        start=at(workshop, 13, 15),
        end=at(workshop, 13, 45),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["talk"] == [
        "Kofi Mensah also speaks in “Talk A (Mon 2 Dec 13:00–13:30 UTC, Main stage)” "
        "at the same time."
    ]


def test_speaker_back_to_back_in_two_rooms_is_fine(workshop, room, other_room):
    speaker = SpeakerFactory()
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(speakers=[speaker]),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )
    slot = SlotFactory.build(
        workshop=workshop,
        room=other_room,
        talk=TalkFactory(speakers=[speaker]),
        start=at(workshop, 13, 30),
        end=at(workshop, 14),
    )

    slot.full_clean()


def test_talk_in_second_slot_is_refused_with_slot_named(workshop, room, other_room):
    talk = TalkFactory(title="Only once")
    SlotFactory(
        workshop=workshop, room=room, talk=talk, start=at(workshop, 13), end=at(workshop, 13, 30)
    )
    slot = SlotFactory.build(
        workshop=workshop,
        room=other_room,
        talk=talk,
        start=at(workshop, 15),
        end=at(workshop, 15, 30),
    )

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert (
        "This talk is already placed in “Only once (Mon 2 Dec 13:00–13:30 UTC, Main stage)”."
        in (error.value.message_dict["talk"])
    )


def test_talk_in_second_slot_is_refused_by_database(workshop, room):
    talk = TalkFactory()
    SlotFactory(
        workshop=workshop, room=room, talk=talk, start=at(workshop, 13), end=at(workshop, 13, 30)
    )

    with pytest.raises(IntegrityError):
        SlotFactory(
            workshop=workshop,
            room=room,
            talk=talk,
            start=at(workshop, 15),
            end=at(workshop, 15, 30),
        )


def test_slot_needs_talk_or_title(workshop, room):
    slot = SlotFactory.build(workshop=workshop, room=room, talk=None, title="")

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["title"] == [
        "Choose a talk or give the slot a title (Break, Welcome...)."
    ]


def test_slot_with_talk_and_title_is_refused(workshop, room):
    slot = SlotFactory.build(workshop=workshop, room=room, talk=TalkFactory(), title="Break")

    with pytest.raises(ValidationError) as error:
        slot.full_clean()

    assert error.value.message_dict["title"] == [
        "A slot with a talk takes the talk's title; leave this empty."
    ]


def test_slot_with_unsaved_new_talk_counts_as_having_a_talk(workshop, room):
    # The talk admin's inline attaches the new, not yet saved talk to its slot.
    slot = SlotFactory.build(workshop=workshop, room=room, talk=None, title="")
    slot.talk = TalkFactory.build()

    slot.clean()

    assert slot.has_talk() is True


def test_slot_str_uses_workshop_zone(workshop, room):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()
    slot = SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(title="Metrics"),
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )

    assert str(slot) == "Metrics (Mon 2 Dec 14:00–14:30 CET, Main stage)"


def test_talk_published_queryset_and_url(db):
    talk = TalkFactory(slug="metrics", published=True)
    TalkFactory(published=False)

    assert list(Talk.objects.published()) == [talk]
    assert talk.get_absolute_url() == "/talks/metrics/"


def test_talk_guid_is_stable_and_independent_of_row_order(db):
    talk = TalkFactory()

    assert talk.guid("ws") == Talk.objects.get(pk=talk.pk).guid("ws")
    assert talk.guid("ws") != talk.guid("other")
    assert str(talk.guid("ws")).count("-") == 4


def test_slot_overlapping_queryset_excludes_back_to_back(workshop, room):
    before = SlotFactory(
        workshop=workshop, room=room, start=at(workshop, 13), end=at(workshop, 13, 30)
    )
    during = SlotFactory(
        workshop=workshop, room=room, start=at(workshop, 13, 30), end=at(workshop, 14)
    )

    found = Slot.objects.overlapping(at(workshop, 13, 30), at(workshop, 13, 45))

    assert list(found) == [during]
    assert before not in found
    assert during.duration == dt.timedelta(minutes=30)
