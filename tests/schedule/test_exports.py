import datetime as dt
import json

import icalendar
import pytest
from django.test import Client
from django.utils.http import http_date
from jsonschema import Draft6Validator
from lxml import etree

from schedule import exports
from schedule.exports import acronym
from schedule.models import Talk
from tests.factories import (
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TalkLinkFactory,
    WorkshopFactory,
)
from tests.schedule.conftest import SCHEMAS, at, make_programme

pytestmark = pytest.mark.django_db

EXPORTS = ["/schedule.ics", "/schedule.xml", "/schedule.json"]
PRETALX_PATHS = [
    ("/schedule/export/schedule.ics", "/schedule.ics"),
    ("/schedule/export/schedule.xml", "/schedule.xml"),
    ("/schedule/export/schedule.json", "/schedule.json"),
]


@pytest.fixture
def xml_schema():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "schedule.xml.xsd")))


@pytest.fixture
def json_validator():
    schema = json.loads((SCHEMAS / "schema.json").read_text())
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


@pytest.fixture
def demo_like(workshop, programme):
    """The programme of a workshop whose slug has hyphens, with links of every kind."""
    workshop.slug = "pydata-global-2022-mlsci"
    workshop.save()
    talk = programme["keynote"].talk
    talk.slides_url = "https://example.org/slides"
    talk.video_url = "https://example.org/video"
    talk.save()
    TalkLinkFactory(talk=talk)
    return programme


def test_xml_export_validates_against_xsd(client, demo_like, xml_schema):
    response = client.get("/schedule.xml")

    document = etree.fromstring(response.content)
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    xml_schema.assertValid(document)
    assert document.findtext("conference/acronym") == "pydata_global_2022_mlsci"
    event = document.find("day/room/event[title='Choosing metrics']")
    assert event.get("guid") == str(demo_like["keynote"].talk.guid("pydata-global-2022-mlsci"))
    assert event.findtext("slug") == (
        f"pydata_global_2022_mlsci-talk-{demo_like['keynote'].talk.pk}-choosing_metrics"
    )
    assert event.findtext("date") == "2030-12-02T13:10:00+00:00"
    assert (event.findtext("start"), event.findtext("duration")) == ("13:10", "00:30")
    assert event.findtext("url") == "http://127.0.0.1:8000/talks/choosing-metrics/"
    assert [p.text for p in event.findall("persons/person")] == ["Ada Lindqvist"]
    assert [link.get("type") for link in event.findall("links/link")] == [
        "slides",
        "media",
        "paper",
    ]
    titles = [e.findtext("title") for e in document.iter("event")]
    assert titles == ["Welcome", "Choosing metrics", "Honest splits"]


def test_json_export_validates_against_schema(client, demo_like, json_validator):
    response = client.get("/schedule.json")

    data = json.loads(response.content)
    assert response["Content-Type"] == "application/json"
    assert sorted(error.message for error in json_validator.iter_errors(data)) == []
    conference = data["schedule"]["conference"]
    assert conference["acronym"] == "pydata_global_2022_mlsci"
    assert conference["time_zone_name"] == "UTC"
    day = conference["days"][0]
    assert (day["date"], day["day_start"]) == ("2030-12-02", "2030-12-02T13:00:00+00:00")
    event = day["rooms"]["Main stage"][0]
    assert (event["title"], event["duration"], event["start"]) == (
        "Choosing metrics",
        "00:30",
        "13:10",
    )
    assert event["guid"] == str(demo_like["keynote"].talk.guid("pydata-global-2022-mlsci"))
    assert event["persons"][0]["name"] == "Ada Lindqvist"
    assert {link["type"] for link in event["links"]} == {"slides", "media", "paper"}


def test_json_schema_validator_really_checks_formats(json_validator):
    bad = {"schedule": {"version": "1", "conference": {"acronym": "pydata-global-2022-mlsci"}}}

    messages = [error.message for error in json_validator.iter_errors(bad)]

    assert any("does not match" in message for message in messages)
    assert not json_validator.is_valid({"generator": {"url": "not a uri"}, "schedule": {}})


def test_exports_validate_for_zone_with_daylight_saving_and_many_days(
    client, xml_schema, json_validator, room
):
    workshop = WorkshopFactory(
        slug="ab",
        time_zone="America/New_York",
        starts_at=dt.datetime(2030, 3, 9, 14, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 3, 11, 22, tzinfo=dt.UTC),
    )
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=TalkFactory(slug="X"),
        start=dt.datetime(2030, 3, 10, 15, tzinfo=dt.UTC),
    )

    document = etree.fromstring(client.get("/schedule.xml").content)
    data = json.loads(client.get("/schedule.json").content)

    xml_schema.assertValid(document)
    assert list(json_validator.iter_errors(data)) == []
    assert [day.get("date") for day in document.findall("day")] == [
        "2030-03-09",
        "2030-03-10",
        "2030-03-11",
    ]
    assert document.find("day[2]/room/event/date").text == "2030-03-10T11:00:00-04:00"
    assert acronym(workshop) == "ab_workshop"


def test_ical_export_parses_back_with_utc_times(client, demo_like):
    response = client.get("/schedule.ics")

    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(event["summary"]): event for event in calendar.walk("VEVENT")}
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert sorted(events) == ["Choosing metrics", "Honest splits", "Welcome"]
    keynote = events["Choosing metrics"]
    assert keynote.decoded("dtstart").astimezone(dt.UTC) == dt.datetime(
        2030, 12, 2, 13, 10, tzinfo=dt.UTC
    )
    assert keynote.decoded("dtend").astimezone(dt.UTC) == dt.datetime(
        2030, 12, 2, 13, 40, tzinfo=dt.UTC
    )
    talk = demo_like["keynote"].talk
    assert str(keynote["uid"]) == f"{talk.guid('pydata-global-2022-mlsci')}@127.0.0.1"
    assert str(keynote["url"]) == "http://127.0.0.1:8000/talks/choosing-metrics/"
    assert str(keynote["location"]) == "Main stage"
    assert "dtstamp" in keynote
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["UTC"]


def test_ical_export_in_other_zone_carries_vtimezone(client, workshop, programme):
    workshop.time_zone = "Pacific/Kiritimati"
    workshop.save()

    calendar = icalendar.Calendar.from_ical(client.get("/schedule.ics").content)

    event = next(e for e in calendar.walk("VEVENT") if str(e["summary"]) == "Choosing metrics")
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Pacific/Kiritimati"]
    assert event["dtstart"].params["TZID"] == "Pacific/Kiritimati"
    assert event.decoded("dtstart").astimezone(dt.UTC) == dt.datetime(
        2030, 12, 2, 13, 10, tzinfo=dt.UTC
    )
    assert event.decoded("dtstart").date() == dt.date(2030, 12, 3)


def test_talk_ical_has_one_event_with_same_uid(client, demo_like):
    whole = icalendar.Calendar.from_ical(client.get("/schedule.ics").content)
    response = client.get("/talks/choosing-metrics.ics")

    single = icalendar.Calendar.from_ical(response.content)
    events = single.walk("VEVENT")
    assert response.status_code == 200
    assert len(events) == 1
    assert str(events[0]["uid"]) in {str(event["uid"]) for event in whole.walk("VEVENT")}


def test_uids_and_guids_stay_when_rows_are_reordered(client, demo_like):
    before = json.loads(client.get("/schedule.json").content)
    first_guids = {
        e["title"]: e["guid"]
        for rooms in before["schedule"]["conference"]["days"][0]["rooms"].values()
        for e in rooms
    }
    TalkFactory(title="A new first talk")  # a new row must not shift anyone's id
    keynote = demo_like["keynote"]
    keynote.start, keynote.end = at(keynote.workshop, 15), at(keynote.workshop, 15, 30)
    keynote.save()

    after = json.loads(client.get("/schedule.json").content)

    guids = {
        e["title"]: e["guid"]
        for rooms in after["schedule"]["conference"]["days"][0]["rooms"].values()
        for e in rooms
    }
    assert guids == first_guids


def test_exports_hide_unpublished_talks_and_follow_changes(client, demo_like):
    talk = Talk.objects.get(slug="honest-splits")
    talk.published = False
    talk.save()

    bodies = [client.get(path).content.decode() for path in EXPORTS]

    for body in bodies:
        assert "Honest splits" not in body
        assert "Choosing metrics" in body


@pytest.mark.parametrize("path", EXPORTS + ["/talks/choosing-metrics.ics"])
def test_export_answers_304_to_etag_and_date(client, programme, path):
    first = client.get(path)

    by_etag = client.get(path, headers={"if-none-match": first["ETag"]})
    by_date = client.get(path, headers={"if-modified-since": first["Last-Modified"]})

    assert first.status_code == 200
    assert first["Access-Control-Allow-Origin"] == "*"
    assert (by_etag.status_code, by_date.status_code) == (304, 304)
    assert by_etag["ETag"] == first["ETag"]
    assert by_etag.content == b""


@pytest.mark.parametrize("path", EXPORTS)
def test_export_changes_etag_when_schedule_changes(client, programme, path):
    first = client.get(path)
    programme["keynote"].talk.title = "Renamed"
    programme["keynote"].talk.save()

    response = client.get(path, headers={"if-none-match": first["ETag"]})

    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]
    assert "Renamed" in response.content.decode()


def test_export_old_date_gets_full_answer(client, programme):
    response = client.get("/schedule.json", headers={"if-modified-since": http_date(946684800)})

    assert response.status_code == 200


@pytest.mark.parametrize(("pretalx_path", "path"), PRETALX_PATHS)
def test_exports_answer_at_pretalx_paths(client, programme, pretalx_path, path):
    guessed = client.get(pretalx_path)

    assert guessed.status_code == 200
    assert guessed.content == client.get(path).content
    assert guessed["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", EXPORTS)
def test_exports_of_empty_schedule_are_valid(client, workshop, xml_schema, json_validator, path):
    response = client.get(path)

    assert response.status_code == 200
    if path.endswith(".xml"):
        xml_schema.assertValid(etree.fromstring(response.content))
    if path.endswith(".json"):
        assert list(json_validator.iter_errors(json.loads(response.content))) == []


@pytest.mark.parametrize("path", EXPORTS)
def test_exports_without_workshop_are_404(client, db, path):
    assert client.get(path).status_code == 404


def test_large_exports_validate(client, workshop, xml_schema, json_validator):
    make_programme(workshop, 300)

    xml_schema.assertValid(etree.fromstring(client.get("/schedule.xml").content))
    assert list(json_validator.iter_errors(json.loads(client.get("/schedule.json").content))) == []


@pytest.mark.parametrize("count", [10, 300])
@pytest.mark.parametrize(
    ("path", "queries"),
    # First render: the outline (versions), then in full what must be rendered.
    [("/schedule.ics", 8), ("/schedule.xml", 8), ("/schedule.json", 8), ("/talks/talk-0.ics", 3)],
)
def test_exports_use_constant_queries(
    client, workshop, django_assert_num_queries, count, path, queries
):
    make_programme(workshop, count)

    with django_assert_num_queries(queries):
        response = client.get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("path", EXPORTS)
def test_exports_answer_head_and_refuse_post(client, programme, path):
    head = client.head(path)
    post = client.post(path)

    assert (head.status_code, post.status_code) == (200, 405)
    assert head["ETag"] == client.get(path)["ETag"]


@pytest.mark.parametrize(
    ("versions", "latest"),
    [
        # PostgreSQL: fractions lose trailing zeros, and a whole second has none.
        (["2026-12-03 13:36:21+00", "2026-12-03 13:36:21.5+00"], "2026-12-03 13:36:21.500000"),
        (["2026-12-03 13:36:21.45+00", "2026-12-03 13:36:21.4+00"], "2026-12-03 13:36:21.450000"),
        (["2026-12-03 09:00:00+00", "2026-11-30 23:59:59.999+00"], "2026-12-03 09:00:00"),
        # SQLite: UTC without an offset, six digits or none.
        (["2026-12-03 13:36:21", "2026-12-03 13:36:21.000001"], "2026-12-03 13:36:21.000001"),
    ],
)
def test_latest_version_compares_database_texts_as_times(versions, latest):
    expected = dt.datetime.fromisoformat(latest).replace(tzinfo=dt.UTC)

    assert exports.latest_version(versions) == expected
    assert exports.latest_version(list(reversed(versions))) == expected


def test_latest_version_of_nothing_is_none():
    assert exports.latest_version([]) is None


def test_export_version_is_the_latest_change_of_a_slot_or_talk(programme):
    talk = Talk.objects.published().first()
    talk.title = "Renamed"
    talk.save()
    talk.refresh_from_db()

    body = json.loads(Client().get("/schedule.json").content)

    assert body["schedule"]["version"] == talk.updated_at.astimezone(dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC"
    )


# A speaker's calendar ---------------------------------------------------------------------


def test_speaker_ical_holds_their_published_scheduled_talks(client, workshop, programme, speaker):
    second = programme["second"]
    second.talk.speakers.add(speaker)
    draft = TalkFactory(title="Draft talk", speakers=[speaker], published=False)
    SlotFactory(workshop=workshop, talk=draft, start=at(workshop, 15), end=at(workshop, 15, 30))
    whole = icalendar.Calendar.from_ical(client.get("/schedule.ics").content)

    response = client.get("/speakers/ada-lindqvist.ics")

    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(event["summary"]): event for event in calendar.walk("VEVENT")}
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="ada-lindqvist.ics"'
    assert response["Access-Control-Allow-Origin"] == "*"
    assert sorted(events) == ["Choosing metrics", "Honest splits"]
    assert str(calendar["x-wr-calname"]) == f"Ada Lindqvist: {workshop.title}"
    uids = {str(event["uid"]) for event in whole.walk("VEVENT")}
    assert {str(event["uid"]) for event in events.values()} <= uids


def test_speaker_ical_without_scheduled_talks_is_an_empty_calendar(client, workshop):
    SpeakerFactory(slug="new-speaker")

    response = client.get("/speakers/new-speaker.ics")

    assert response.status_code == 200
    assert icalendar.Calendar.from_ical(response.content).walk("VEVENT") == []


@pytest.mark.parametrize("slug", ["hidden", "nobody"])
def test_speaker_ical_of_unpublished_or_unknown_speaker_is_404(client, workshop, slug):
    SpeakerFactory(slug="hidden", published=False)

    assert client.get(f"/speakers/{slug}.ics").status_code == 404


@pytest.mark.parametrize("count", [10, 100])
def test_speaker_ical_uses_constant_queries(client, workshop, django_assert_num_queries, count):
    make_programme(workshop, count)
    speaker = SpeakerFactory(slug="everywhere")
    speaker.talks.add(*Talk.objects.all())

    # Workshop, speaker, slots with talks and rooms, their speakers, their links.
    with django_assert_num_queries(5):
        response = client.get("/speakers/everywhere.ics")

    assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == count


# Subscribing ------------------------------------------------------------------------------


def test_calendar_links_offer_a_webcal_subscription(client, workshop, programme, speaker):
    pages = {
        "/schedule/": "/schedule.ics",
        "/talks/choosing-metrics/": "/talks/choosing-metrics.ics",
        "/speakers/ada-lindqvist/": "/speakers/ada-lindqvist.ics",
    }

    for page, calendar in pages.items():
        html = client.get(page).content.decode()

        assert f'href="{calendar}"' in html, page
        assert f'href="webcal://127.0.0.1:8000{calendar}"' in html, page


def test_speaker_without_talks_offers_no_calendar(client, workshop):
    SpeakerFactory(slug="no-talks")

    html = client.get("/speakers/no-talks/").content.decode()

    assert "no-talks.ics" not in html
