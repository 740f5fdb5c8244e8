import datetime as dt
import json

import pytest
from django.core.management import call_command
from jsonschema import Draft6Validator
from lxml import etree

from schedule.models import Room, Slot, Talk
from schedule.services import find_schedule_problems
from tests.schedule.conftest import SCHEMAS
from workshop.models import Workshop

pytestmark = pytest.mark.django_db


def load_demo():
    call_command("load_demo", stdout=open("/dev/null", "w"))


def test_demo_programme_is_complete_and_clean():
    load_demo()

    workshop = Workshop.objects.get(slug="pydata-global-2022-mlsci")
    assert list(Room.objects.values_list("name", flat=True)) == ["Main stage", "Hands-on stage"]
    assert Talk.objects.published().count() == 13
    assert set(Talk.objects.values_list("track", flat=True)) == {
        "Metrics",
        "Evaluation",
        "Explanation",
        "Pipelines",
        "Testing",
        "Reproduction",
        "",
    }
    titles = list(Slot.objects.filter(talk__isnull=True).values_list("title", flat=True))
    assert titles == ["Welcome", "Break", "Break", "Closing discussion with all speakers"]
    assert find_schedule_problems(workshop) == []
    assert all(talk.speakers.exists() for talk in Talk.objects.exclude(slug="lightning-talks"))


def test_demo_is_idempotent(client):
    load_demo()
    fields = ["start", "end", "room__name", "talk__slug", "title", "updated_at", "talk__updated_at"]
    before = list(Slot.objects.values_list(*fields))
    etag = client.get("/schedule.json")["ETag"]

    load_demo()

    assert list(Slot.objects.values_list(*fields)) == before
    assert Talk.objects.count() == 13
    assert client.get("/schedule.json")["ETag"] == etag


def test_demo_schedule_page_and_exports_answer(client):
    load_demo()

    for path in ["/schedule/", "/talks/", "/talks/pipelines-as-a-bridge/", "/schedule.json"]:
        assert client.get(path).status_code == 200


def test_demo_exports_validate_against_schemas(client):
    load_demo()
    schema = json.loads((SCHEMAS / "schema.json").read_text())
    validator = Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / "schedule.xml.xsd")))

    xsd.assertValid(etree.fromstring(client.get("/schedule.xml").content))
    assert list(validator.iter_errors(json.loads(client.get("/schedule.json").content))) == []


def test_demo_opens_a_call_for_proposals_until_two_weeks_before(client):
    load_demo()
    workshop = Workshop.objects.get(slug="pydata-global-2022-mlsci")
    call = workshop.call
    before = (call.opens_at, call.closes_at, call.updated_at)

    load_demo()

    call.refresh_from_db()
    assert (call.opens_at, call.closes_at, call.updated_at) == before
    assert call.closes_at == workshop.starts_at - dt.timedelta(days=14)
    assert list(call.submission_types.values_list("name", "duration")) == [
        ("Talk", 30),
        ("Lightning talk", 5),
        ("Poster", 60),
    ]
    assert call.questions.count() == 2
    assert "Submit a proposal" in client.get("/call/").content.decode()
