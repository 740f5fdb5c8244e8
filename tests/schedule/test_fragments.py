"""Long pages and exports re-render only the pieces (talk, speaker, slot) whose data changed."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client

from schedule.models import Talk
from tests.factories import RoomFactory, SlotFactory, SpeakerFactory, TalkFactory, TalkLinkFactory
from tests.schedule.conftest import make_programme
from workshop import fragments
from workshop.cache import bump_content_version, forget_cached_pages

pytestmark = pytest.mark.django_db

LONG_PAGES = [
    "/talks/",
    "/schedule/",
    "/speakers/",
    "/schedule.ics",
    "/schedule.xml",
    "/schedule.json",
]
KIND_OF = {
    "/talks/": "talk-item",
    "/schedule/": "slot-cell",
    "/speakers/": "speaker-item",
    "/schedule.ics": "ics-event",
    "/schedule.xml": "xml-event",
    "/schedule.json": "json-event",
}


class RecordingCache:
    """The project's cache, noting the pieces rendered afresh (written with set_many)."""

    def __init__(self):
        self.rendered = []

    def __getattr__(self, name):
        return getattr(cache, name)

    def set_many(self, data, *args, **kwargs):
        self.rendered += [key.split(":")[1] for key in data]
        return cache.set_many(data, *args, **kwargs)


@pytest.fixture
def rendered(monkeypatch):
    """Return the kinds of the pieces rendered afresh since the fixture started."""
    recording = RecordingCache()
    monkeypatch.setattr(fragments, "cache", recording)
    return recording.rendered


@pytest.fixture
def three_talks(workshop):
    """Three published talks in three rooms at the same time, a speaker each."""
    talks = []
    for number in range(3):
        speaker = SpeakerFactory(name=f"Speaker {number}", slug=f"speaker-{number}")
        talk = TalkFactory(title=f"Talk {number}", slug=f"talk-{number}", speakers=[speaker])
        SlotFactory(workshop=workshop, room=RoomFactory(name=f"Room {number}"), talk=talk)
        talks.append(talk)
    return talks


def visit_all():
    for path in LONG_PAGES:
        assert Client().get(path).status_code == 200, path


@pytest.mark.parametrize("path", LONG_PAGES)
def test_first_render_makes_every_piece_then_none(three_talks, rendered, path):
    Client().get(path)
    first = list(rendered)
    bump_content_version()  # the page is rendered again, from its kept pieces

    again = Client().get(path)

    assert again.status_code == 200
    assert first == [KIND_OF[path]] * 3
    assert rendered == first


def test_change_to_one_talk_renders_only_its_pieces(three_talks, rendered):
    visit_all()
    rendered.clear()

    three_talks[1].title = "Talk one, renamed"
    three_talks[1].save()
    visit_all()

    assert sorted(rendered) == sorted(KIND_OF.values())  # one of each: its speaker lists it


def test_change_to_one_speaker_renders_only_the_pieces_that_show_them(three_talks, rendered):
    visit_all()
    rendered.clear()
    speaker = three_talks[0].speakers.get()

    speaker.name = "Renamed Speaker"
    speaker.save()
    visit_all()

    assert sorted(rendered) == sorted(KIND_OF.values())


def test_moving_one_slot_renders_only_its_pieces(workshop, three_talks, rendered):
    visit_all()
    rendered.clear()
    slot = three_talks[2].slot

    slot.start += dt.timedelta(hours=2)
    slot.end += dt.timedelta(hours=2)
    slot.save()
    visit_all()

    assert sorted(rendered) == sorted(kind for kind in KIND_OF.values() if kind != "speaker-item")


def test_workshop_time_zone_change_renders_every_timed_piece(workshop, three_talks, rendered):
    visit_all()
    rendered.clear()

    workshop.time_zone = "Asia/Tokyo"
    workshop.save()
    visit_all()

    timed = [kind for kind in KIND_OF.values() if kind != "speaker-item"]
    assert sorted(rendered) == sorted(timed * 3)


def test_forget_cached_pages_renders_every_piece_again(three_talks, rendered):
    visit_all()
    rendered.clear()

    forget_cached_pages()
    visit_all()

    assert sorted(rendered) == sorted(list(KIND_OF.values()) * 3)


def test_pieces_are_rendered_again_when_the_cache_lost_them(three_talks, rendered):
    Client().get("/talks/")
    cache.clear()

    again = Client().get("/talks/")

    assert "Talk 2" in again.content.decode()
    assert rendered == ["talk-item"] * 6


def change_talk_title(talks):
    talks[0].title = "Freshly titled"
    talks[0].save()
    return "Freshly titled"


def change_speaker_name(talks):
    speaker = talks[0].speakers.get()
    speaker.name = "Freshly named"
    speaker.save()
    return "Freshly named"


def add_a_speaker(talks):
    talks[0].speakers.add(SpeakerFactory(name="Freshly added"))
    return "Freshly added"


def unpublish_a_speaker(talks):
    speaker = talks[0].speakers.get()
    speaker.published = False
    speaker.save()
    return ("Speaker 0", "absent")


def rename_room(talks):
    room = talks[0].slot.room
    room.name = "Freshly roomed"
    room.save()
    return "Freshly roomed"


def add_a_link(talks):
    TalkLinkFactory(talk=talks[0], title="Freshly linked")
    return "Freshly linked"


def rename_workshop_slug(talks):
    workshop = talks[0].slot.workshop
    workshop.slug = "freshly-slugged"
    workshop.save()
    return "freshly_slugged"


def move_to_tokyo(talks):
    workshop = talks[0].slot.workshop
    workshop.time_zone = "Asia/Tokyo"
    workshop.save()
    return "+09:00"


def move_calendar_to_tokyo(talks):
    move_to_tokyo(talks)
    return "DTSTART;TZID=Asia/Tokyo"


CHANGES = [
    (change_talk_title, ["/talks/", "/schedule/", "/speakers/", "/schedule.ics", "/schedule.xml"]),
    (change_talk_title, ["/schedule.json"]),
    (change_speaker_name, ["/talks/", "/schedule/", "/speakers/", "/schedule.ics"]),
    (change_speaker_name, ["/schedule.xml", "/schedule.json"]),
    (add_a_speaker, ["/talks/", "/schedule/", "/schedule.ics", "/schedule.xml", "/schedule.json"]),
    (unpublish_a_speaker, ["/talks/", "/schedule/", "/speakers/", "/schedule.ics"]),
    (unpublish_a_speaker, ["/schedule.xml", "/schedule.json"]),
    (rename_room, ["/talks/", "/schedule/", "/schedule.ics", "/schedule.xml", "/schedule.json"]),
    (add_a_link, ["/schedule.xml", "/schedule.json"]),
    (rename_workshop_slug, ["/schedule.xml", "/schedule.json"]),
    (move_to_tokyo, ["/talks/", "/schedule/", "/schedule.xml", "/schedule.json"]),
    (move_calendar_to_tokyo, ["/schedule.ics"]),
]


@pytest.mark.parametrize(("change", "paths"), CHANGES)
def test_every_change_shows_on_every_page_that_shows_it(three_talks, change, paths):
    before = {path: Client().get(path).content.decode() for path in paths}

    shown = change(three_talks)
    after = {path: Client().get(path).content.decode() for path in paths}

    for path in paths:
        if isinstance(shown, tuple):  # something that must disappear
            assert shown[0] in before[path] and shown[0] not in after[path], path
        else:
            assert shown not in before[path] and shown in after[path], path


@pytest.mark.parametrize("count", [10, 300])
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/schedule/", 6),
        ("/talks/", 4),
        ("/speakers/", 4),
        ("/schedule.ics", 5),
        ("/schedule.xml", 5),
        ("/schedule.json", 5),
    ],
)
def test_render_after_a_change_loads_in_full_only_what_changed(
    workshop, django_assert_num_queries, count, path, queries
):
    make_programme(workshop, count)
    for talk in Talk.objects.all():
        talk.speakers.add(SpeakerFactory())
    Client().get(path)
    bump_content_version()  # as any change does: the page is rendered again

    # The outline (versions) only: every piece is kept.
    with django_assert_num_queries(queries):
        unchanged = Client().get(path)
    talk = Talk.objects.order_by("pk").first()
    talk.title = "Changed"
    talk.save()
    # The outline, then in full the one talk (with its speakers and links) that changed.
    with django_assert_num_queries(queries + (2 if path in {"/talks/", "/speakers/"} else 3)):
        changed = Client().get(path)

    assert unchanged.status_code == changed.status_code == 200
