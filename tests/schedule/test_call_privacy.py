"""A person's proposals and reviews in their data export, and what deleting the account does."""

import json

import pytest

from schedule.models import Proposal, Review, Talk
from tests.factories import (
    OrganiserFactory,
    ProposalFactory,
    QuestionFactory,
    SpeakerFactory,
    TalkFactory,
)
from tests.speakers.conftest import PASSWORD, verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def grace(db):
    return verified_user(username="grace", email="grace@example.org")


@pytest.fixture
def profile(grace):
    return SpeakerFactory(name="Grace Okafor", user=grace, published=False)


def proposal_of(call, authors, title, **kwargs):
    return ProposalFactory(
        call=call, talk=TalkFactory(title=title, published=False), authors=authors, **kwargs
    )


def test_the_export_holds_the_proposals_and_reviews(client, call, grace, profile):
    asked = QuestionFactory(call=call, text="Will you attend?")
    proposal = proposal_of(call, [profile], "Honest baselines", notes="Only mornings.")
    proposal.answers.create(question=asked, value="yes")
    Review.objects.create(
        proposal=proposal_of(call, [SpeakerFactory()], "Someone else's"),
        reviewer=grace,
        score=4,
        comment="Solid.",
    )
    client.force_login(grace)

    data = json.loads(client.get("/accounts/data/export/").content)["schedule"]

    (exported,) = data["proposals"]
    assert (exported["title"], exported["state"], exported["notes_for_the_organisers"]) == (
        "Honest baselines",
        "submitted",
        "Only mornings.",
    )
    assert exported["answers"] == {"Will you attend?": "yes"}
    assert [(r["proposal"], r["score"], r["comment"]) for r in data["reviews_written"]] == [
        ("Someone else's", 4, "Solid.")
    ]


def test_deleting_the_account_deletes_own_proposals_not_on_the_programme(
    client, call, grace, profile
):
    proposal_of(call, [profile], "Only mine")
    proposal_of(call, [profile], "Withdrawn one", state="withdrawn")
    proposal_of(call, [profile, SpeakerFactory(name="Ada")], "Written with Ada")
    confirmed = proposal_of(call, [profile], "On the programme", state="confirmed")
    Talk.objects.filter(pk=confirmed.talk_id).update(published=True)
    Review.objects.create(proposal=confirmed, reviewer=OrganiserFactory(), score=5)
    client.force_login(grace)

    response = client.post("/accounts/data/delete/", {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 200
    assert sorted(Proposal.objects.values_list("talk__title", flat=True)) == [
        "On the programme",
        "Written with Ada",
    ]
    assert not Talk.objects.filter(title__in=["Only mine", "Withdrawn one"]).exists()
    assert Review.objects.count() == 1
