"""The call for proposals in the admin: its dates in the workshop's zone, its e-mail templates."""

import datetime as dt

import pytest

from schedule.models import Call
from tests.factories import ProposalFactory, SpeakerFactory, TalkFactory

pytestmark = pytest.mark.django_db

INLINES = {
    f"{prefix}-{name}": "0" for prefix in ("submission_types", "tracks", "questions")
    for name in ("TOTAL_FORMS", "INITIAL_FORMS")
}  # fmt: skip


def call_form(workshop, **overrides):
    call = Call(workshop=workshop)
    data = {
        "workshop": str(workshop.pk),
        "opens_at_0": "2030-09-01",
        "opens_at_1": "00:00:00",
        "closes_at_0": "2030-09-30",
        "closes_at_1": "23:59:00",
        "intro": "Send us *talks*.",
        "lowest_score": "1",
        "highest_score": "5",
        "reviews_wanted": "2",
        "accept_subject": call.accept_subject,
        "accept_body": call.accept_body,
        "reject_subject": call.reject_subject,
        "reject_body": call.reject_body,
        **INLINES,
    }
    data.update(overrides)
    return data


def test_call_dates_are_typed_in_the_workshops_zone(organiser_client, workshop):
    workshop.time_zone = "Europe/Berlin"
    workshop.save()

    form = organiser_client.get("/admin/schedule/call/add/").content.decode()
    response = organiser_client.post("/admin/schedule/call/add/", call_form(workshop))

    assert "In the workshop's time zone, Europe/Berlin." in form
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.opens_at == dt.datetime(2030, 8, 31, 22, 0, tzinfo=dt.UTC)
    assert call.closes_at == dt.datetime(2030, 9, 30, 21, 59, tzinfo=dt.UTC)
    page = organiser_client.get(f"/admin/schedule/call/{call.pk}/change/").content.decode()
    assert 'name="closes_at_1" value="23:59:00"' in page
    listed = organiser_client.get("/admin/schedule/call/").content.decode()
    assert "Monday 30 September 2030, 23:59 CEST" in listed


def test_a_call_closing_before_it_opens_is_refused(organiser_client, workshop):
    response = organiser_client.post(
        "/admin/schedule/call/add/", call_form(workshop, closes_at_0="2030-08-01")
    )

    assert response.status_code == 200
    assert "The call must close after it opens." in response.content.decode()
    assert Call.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "accept_body",
            "Dear {nam},",
            "Unknown placeholder {nam}; use {name}, {title}, {workshop}, {proposal_url}, "
            "{confirm_url}.",
        ),
        ("reject_body", "Confirm at {confirm_url}", "Unknown placeholder {confirm_url}"),
        ("accept_subject", "About {title", "Braces must enclose a placeholder such as {title}"),
        ("reject_subject", "{title.__class__}", "Unknown placeholder {title.__class__}"),
        # A format would fail when sending ({title:d}) or make a huge e-mail ({name:>999999999}).
        ("accept_body", "Dear {name:>999999999}", "Write placeholders plainly, as {name}"),
        ("reject_subject", "About {title:d}", "Write placeholders plainly, as {title}"),
        ("reject_body", "About {title!r}", "Write placeholders plainly, as {title}"),
    ],
)
def test_e_mail_templates_with_unknown_placeholders_are_refused(
    organiser_client, workshop, field, value, message
):
    response = organiser_client.post(
        "/admin/schedule/call/add/", call_form(workshop, **{field: value})
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Call.objects.count() == 0


def test_proposals_are_listed_with_their_authors_and_cannot_be_added(organiser_client, workshop):
    speaker = SpeakerFactory(name="Grace Okafor")
    ProposalFactory(
        talk=TalkFactory(title="Honest baselines", published=False, track="Metrics"),
        authors=[speaker],
    )

    html = organiser_client.get("/admin/schedule/proposal/?state__exact=submitted").content.decode()

    assert "Honest baselines" in html
    assert "Grace Okafor" in html
    assert organiser_client.get("/admin/schedule/proposal/add/").status_code == 403
