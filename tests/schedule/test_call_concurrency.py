"""The call's rules under concurrent writes, on PostgreSQL."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection, connections
from django.utils import timezone

from schedule.decisions import confirm_proposal, decide_proposals
from schedule.models import Proposal, Review
from schedule.proposals import ProposalError, ProposalText, submit_proposal
from schedule.reviews import save_review
from tests.factories import (
    CallFactory,
    OrganiserFactory,
    ProposalFactory,
    SpeakerFactory,
    SubmissionTypeFactory,
    UserFactory,
    WorkshopFactory,
)
from workshop.models import OutgoingEmail
from workshop.roles import REVIEWER

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locking must be proven on PostgreSQL.",
    ),
]

CLICKS = 6


def at_once(count, action):
    """Run ``action(n)`` in ``count`` threads released together; return what each returned."""
    barrier = threading.Barrier(count)
    outcomes = []

    def run(number):
        try:
            barrier.wait()
            outcomes.append(action(number))
        except Exception as error:  # noqa: BLE001 - reported in the outcomes
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_many_clicks_on_submit_make_one_proposal():
    workshop = WorkshopFactory()
    call = CallFactory(workshop=workshop, closes_at=timezone.now() + dt.timedelta(hours=1))
    kind = SubmissionTypeFactory(call=call)
    user = UserFactory(username="grace")
    SpeakerFactory(user=user)
    key = uuid.uuid4()
    text = ProposalText(
        title="Honest baselines", abstract="A.", description="", submission_type=kind
    )

    outcomes = at_once(
        CLICKS,
        lambda n: submit_proposal(call=call, user=user, text=text, answers={}, key=key)[1],
    )

    assert sorted(outcomes) == [False] * (CLICKS - 1) + [True]
    assert Proposal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_reviewer_saving_twice_at_once_keeps_one_review():
    WorkshopFactory()
    proposal = ProposalFactory()
    reviewer = OrganiserFactory(username="rita", role=REVIEWER)

    outcomes = at_once(
        CLICKS, lambda n: save_review(proposal=proposal, reviewer=reviewer, score=1 + n % 5)
    )

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Review.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_organisers_accepting_at_once_tell_each_author_once():
    WorkshopFactory()
    proposal = ProposalFactory(
        authors=[SpeakerFactory(email="grace@example.org"), SpeakerFactory(email="ada@example.org")]
    )

    outcomes = at_once(
        CLICKS,
        lambda n: decide_proposals(proposals=[proposal], decision=Proposal.State.ACCEPTED),
    )

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sorted(len(o.decided) for o in outcomes) == [0] * (CLICKS - 1) + [1]
    assert sorted(OutgoingEmail.objects.values_list("recipients", flat=True)) == [
        "ada@example.org",
        "grace@example.org",
    ]


@pytest.mark.django_db(transaction=True)
def test_authors_confirming_at_once_confirm_once():
    WorkshopFactory()
    users = [UserFactory(username=f"author{n}") for n in range(2)]
    proposal = ProposalFactory(
        state=Proposal.State.ACCEPTED, authors=[SpeakerFactory(user=user) for user in users]
    )

    outcomes = at_once(
        CLICKS, lambda n: confirm_proposal(proposal=proposal, user=users[n % 2]).confirmed_by
    )

    refused = [o for o in outcomes if isinstance(o, ProposalError)]
    assert len(refused) == CLICKS - 1
    assert {error.message for error in refused} == {"This talk is confirmed already."}
    assert Proposal.objects.get().state == Proposal.State.CONFIRMED
