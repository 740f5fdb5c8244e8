import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from schedule.models import Room, Slot, Talk
from schedule.proposals import workshop_days
from speakers.models import Speaker
from tests.factories import (
    CallFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    SubmissionTypeFactory,
    TalkFactory,
    TrackFactory,
)
from tests.speakers.conftest import verified_user

# The schemas live in shared/ beside the checkout; byte-identical copies (EUPL-1.2, see
# schemas/SOURCE.md) ship with the tests so that a clone elsewhere still validates.
SHARED_SCHEMAS = Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas"
VENDORED_SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMAS = SHARED_SCHEMAS if (SHARED_SCHEMAS / "schema.json").exists() else VENDORED_SCHEMAS


def at(workshop, hour, minute=0, second=0):
    """Return hour:minute(:second) on the workshop's first day, in UTC."""
    day = workshop.starts_at.date()
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=dt.UTC)


@pytest.fixture
def room(db):
    return RoomFactory(name="Main stage", position=1)


@pytest.fixture
def other_room(db):
    return RoomFactory(name="Hands-on stage", position=2)


@pytest.fixture
def speaker(db):
    return SpeakerFactory(name="Ada Lindqvist", slug="ada-lindqvist")


@pytest.fixture
def programme(workshop, room, other_room, speaker):
    """A small published schedule: welcome, two talks in parallel, a break."""
    keynote = TalkFactory(
        title="Choosing metrics", slug="choosing-metrics", speakers=[speaker], track="Metrics"
    )
    second = TalkFactory(title="Honest splits", slug="honest-splits", track="Evaluation")
    return {
        "welcome": SlotFactory(
            workshop=workshop,
            room=None,
            talk=None,
            title="Welcome",
            start=at(workshop, 13),
            end=at(workshop, 13, 10),
        ),
        "keynote": SlotFactory(
            workshop=workshop,
            room=room,
            talk=keynote,
            start=at(workshop, 13, 10),
            end=at(workshop, 13, 40),
        ),
        "second": SlotFactory(
            workshop=workshop,
            room=other_room,
            talk=second,
            start=at(workshop, 13, 10),
            end=at(workshop, 13, 40),
        ),
        "break": SlotFactory(
            workshop=workshop,
            room=None,
            talk=None,
            title="Break",
            is_break=True,
            start=at(workshop, 13, 40),
            end=at(workshop, 14),
        ),
    }


def make_programme(workshop, count):
    """Create ``count`` published talks, each with a speaker, a link and a slot (bulk)."""
    rooms = Room.objects.bulk_create(Room(name=f"Stage {n}", position=n) for n in range(10))
    speakers = Speaker.objects.bulk_create(
        Speaker(name=f"Person {n}", slug=f"person-{n}", bio="Bio.") for n in range(count)
    )
    talks = Talk.objects.bulk_create(
        Talk(
            title=f"Talk {n}",
            slug=f"talk-{n}",
            abstract="Text.",
            published=True,
            slides_url="https://example.org/slides",
        )
        for n in range(count)
    )
    Talk.speakers.through.objects.bulk_create(
        Talk.speakers.through(talk_id=talk.pk, speaker_id=person.pk)
        for talk, person in zip(talks, speakers, strict=True)
    )
    per_room = -(-count // len(rooms))
    minutes = max(1, 300 // per_room)
    Slot.objects.bulk_create(
        Slot(
            workshop=workshop,
            room=rooms[index % len(rooms)],
            talk=talk,
            start=workshop.starts_at + dt.timedelta(minutes=minutes * (index // len(rooms))),
            end=workshop.starts_at + dt.timedelta(minutes=minutes * (index // len(rooms) + 1)),
        )
        for index, talk in enumerate(talks)
    )
    return talks


# == the call for proposals ==


@pytest.fixture
def call(workshop):
    """The workshop's call, open for one more hour, offering a talk and a poster in two tracks.

    Close enough for a test to move the clock past the deadline with the author still signed in.
    """
    call = CallFactory(workshop=workshop, closes_at=timezone.now() + dt.timedelta(hours=1))
    SubmissionTypeFactory(call=call, name="Talk", kind=Talk.Kind.TALK, duration=30, position=1)
    SubmissionTypeFactory(call=call, name="Poster", kind=Talk.Kind.POSTER, duration=60, position=2)
    TrackFactory(call=call, name="Metrics", position=1)
    TrackFactory(call=call, name="Pipelines", position=2)
    return call


@pytest.fixture
def author(db):
    """A signed-up person without a speaker profile."""
    return verified_user(username="grace", email="grace@example.org")


@pytest.fixture
def author_client(client, author):
    client.force_login(author)
    return client


def proposal_data(call, **overrides):
    """Return a valid proposal form's POST data for ``call``."""
    data = {
        "title": "Honest baselines",
        "submission_type": str(call.submission_types.get(name="Talk").pk),
        "track": str(call.tracks.get(name="Metrics").pk),
        "abstract": "Baselines that *mean* something.",
        "description": "",
        "notes": "",
        "profile-name": "Grace Okafor",
        "profile-affiliation": "Example Lab",
        "profile-short_bio": "Studies baselines.",
    }
    for day, _start, _end in workshop_days(call.workshop):
        data[f"present_{day.isoformat()}"] = "on"
    data.update(overrides)
    return data
