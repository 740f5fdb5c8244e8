"""Authors say when they can present; the schedule check and the slot forms warn otherwise."""

import datetime as dt

import pytest

from schedule.models import Availability, Proposal, Slot
from schedule.services import find_schedule_problems
from tests.factories import (
    OrganiserFactory,
    ProposalFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
)
from tests.schedule.conftest import at, proposal_data
from workshop.roles import PROGRAMME

pytestmark = pytest.mark.django_db

DAY = "2030-12-02"  # the workshop's one day, 13:00-18:00 UTC


def main_of(response):
    return response.content.decode().split("<main", 1)[1].split("</main>", 1)[0]


def test_the_form_asks_for_each_workshop_day_with_its_hours(author_client, call):
    html = main_of(author_client.get("/call/submit/"))

    assert "<legend>When you can present</legend>" in html
    assert "<legend>Monday 2 December</legend>" in html
    assert f'name="present_{DAY}" id="id_present_{DAY}" checked' in html
    assert f'type="time" name="from_{DAY}" value="13:00"' in html
    assert f'type="time" name="until_{DAY}" value="18:00"' in html


def test_the_full_hours_mean_any_time(author_client, call):
    author_client.post("/call/submit/", proposal_data(call))

    assert Availability.objects.count() == 0


def test_hours_given_are_kept_and_shown(author_client, workshop, call):
    data = proposal_data(call, **{f"from_{DAY}": "14:00", f"until_{DAY}": "15:30"})

    response = author_client.post("/call/submit/", data, follow=True)

    (time,) = Availability.objects.all()
    assert (time.start, time.end) == (at(workshop, 14), at(workshop, 15, 30))
    assert "Monday 2 December, 14:00</time>–<time" in main_of(response)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({f"present_{DAY}": ""}, "Choose at least one day on which you can present."),
        ({f"from_{DAY}": "15:00", f"until_{DAY}": "14:00"}, "Give a time after the first one."),
        ({f"from_{DAY}": "09:00"}, "The workshop runs 13:00–18:00 that day."),
        ({f"from_{DAY}": "half past"}, "Enter a valid time."),
    ],
)
def test_impossible_hours_are_refused(author_client, call, changes, message):
    response = author_client.post("/call/submit/", proposal_data(call, **changes))

    assert response.status_code == 400
    assert message in main_of(response)
    assert Proposal.objects.count() == 0


def test_the_edit_form_holds_the_hours_given(author_client, call):
    author_client.post(
        "/call/submit/", proposal_data(call, **{f"from_{DAY}": "14:00", f"until_{DAY}": "15:30"})
    )
    proposal = Proposal.objects.get()

    html = main_of(author_client.get(f"/call/proposals/{proposal.code}/edit/"))

    assert f'type="time" name="from_{DAY}" value="14:00"' in html
    assert f'type="time" name="until_{DAY}" value="15:30"' in html


@pytest.fixture
def confirmed_talk(workshop, call):
    talk = TalkFactory(title="Honest baselines", speakers=[SpeakerFactory()])
    proposal = ProposalFactory(call=call, talk=talk, state="confirmed")
    Availability.objects.create(proposal=proposal, start=at(workshop, 14), end=at(workshop, 15))
    return talk


def test_the_schedule_check_names_a_talk_placed_outside_its_authors_times(
    workshop, room, confirmed_talk
):
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=confirmed_talk,
        start=at(workshop, 13),
        end=at(workshop, 13, 30),
    )

    problems = [p for p in find_schedule_problems(workshop) if p.kind == "unavailable"]

    assert [p.message for p in problems] == [
        "“Honest baselines (Mon 2 Dec 13:00–13:30 UTC, Main stage)” is outside the times its "
        "authors can present: Mon 2 Dec 14:00–15:00."
    ]


def test_a_talk_within_its_authors_times_is_fine(workshop, room, confirmed_talk):
    SlotFactory(
        workshop=workshop,
        room=room,
        talk=confirmed_talk,
        start=at(workshop, 14),
        end=at(workshop, 15),
    )

    assert [p for p in find_schedule_problems(workshop) if p.kind == "unavailable"] == []


def test_the_slot_form_warns_and_saves(client, workshop, room, confirmed_talk):
    from tests.factories import OrganiserFactory

    client.force_login(OrganiserFactory(username="pat", role=PROGRAMME))

    response = client.post(
        "/admin/schedule/slot/add/",
        {
            "workshop": str(workshop.pk),
            "start_0": DAY,
            "start_1": "16:00:00",
            "end_0": DAY,
            "end_1": "16:30:00",
            "room": str(room.pk),
            "talk": str(confirmed_talk.pk),
            "title": "",
        },
        follow=True,
    )

    html = response.content.decode()
    assert "is outside the times its authors can present: Mon 2 Dec 14:00–15:00." in html
    assert confirmed_talk.slot.start == at(workshop, 16)
    assert dt.timedelta(minutes=30) == confirmed_talk.slot.duration


def slot_form(workshop, room, talk, end=""):
    return {
        "workshop": str(workshop.pk),
        "start_0": DAY,
        "start_1": "14:00:00",
        "end_0": DAY if end else "",
        "end_1": end,
        "room": str(room.pk),
        "talk": str(talk.pk),
        "title": "",
    }


def test_a_slot_without_an_end_lasts_as_long_as_its_proposals_type(
    client, workshop, room, call, confirmed_talk
):
    poster = call.submission_types.get(name="Poster")  # 60 minutes
    confirmed_talk.proposal.submission_type = poster
    confirmed_talk.proposal.save()
    client.force_login(OrganiserFactory(username="pat", role=PROGRAMME))

    response = client.post("/admin/schedule/slot/add/", slot_form(workshop, room, confirmed_talk))

    assert response.status_code == 302
    slot = Slot.objects.get(talk=confirmed_talk)
    assert (slot.start, slot.end) == (at(workshop, 14), at(workshop, 15))


def test_a_slot_without_an_end_or_a_proposal_is_refused(client, workshop, room):
    client.force_login(OrganiserFactory(username="pat", role=PROGRAMME))
    talk = TalkFactory(title="Typed in by hand")

    response = client.post("/admin/schedule/slot/add/", slot_form(workshop, room, talk))

    assert response.status_code == 200
    assert "Give the end, or place a proposed talk" in response.content.decode()
    assert Slot.objects.count() == 0
