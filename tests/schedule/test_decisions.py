"""Decisions on proposals: each author told once, in the decision's transaction; then the
accepted authors confirm and the talk is published."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail

from schedule import decisions
from schedule.decisions import confirm_proposal, decide_proposals
from schedule.models import Proposal, Talk
from schedule.proposals import ProposalError, Refusal
from speakers.models import Speaker
from tests.factories import OrganiserFactory, ProposalFactory, SpeakerFactory, TalkFactory
from tests.speakers.conftest import verified_user
from workshop.models import OutgoingEmail
from workshop.roles import PROGRAMME

pytestmark = pytest.mark.django_db


@pytest.fixture
def decider(db):
    return OrganiserFactory(username="pat", role=PROGRAMME)


@pytest.fixture
def two_authors(db):
    grace = verified_user(username="grace", email="grace@example.org")
    return [
        SpeakerFactory(name="Grace Okafor", user=grace, email="old@example.org", published=False),
        # A co-author without an account is written to at the contact address.
        SpeakerFactory(name="Ada Lindqvist", email="ada@example.org", published=False),
    ]


@pytest.fixture
def proposal(call, two_authors):
    return ProposalFactory(
        call=call,
        code="ABCD2345",
        talk=TalkFactory(title="Honest baselines", published=False),
        authors=two_authors,
    )


def test_accepting_tells_each_author_once_with_the_confirmation_link(proposal, decider, settings):
    settings.SITE_URL = "https://workshop.example.org"

    outcome = decide_proposals(proposals=[proposal], decision="accepted", decided_by=decider)

    proposal.refresh_from_db()
    assert (proposal.state, proposal.told_state) == ("accepted", "accepted")
    assert (outcome.decided, outcome.skipped, outcome.letters) == ([proposal], [], 2)
    assert [m.to for m in mail.outbox] == [["ada@example.org"], ["grace@example.org"]]
    ada = mail.outbox[0]
    assert ada.subject == "Your proposal “Honest baselines” is accepted"
    assert ada.body.startswith("Dear Ada Lindqvist,\n\nwe are glad to tell you that your proposal")
    assert "https://workshop.example.org/call/proposals/ABCD2345/confirm/" in ada.body
    # Ada has no account yet: her links answer 404 until she follows her invitation, so she is
    # told; Grace, who has joined, is not.
    assert "You have not joined this proposal on the site yet" in ada.body
    assert "not joined" not in mail.outbox[1].body
    assert OutgoingEmail.objects.count() == 2
    log = LogEntry.objects.get()
    assert (log.user, log.change_message) == (decider, "Accepted; the authors are told.")


def test_deciding_the_same_again_tells_nobody_twice(proposal, decider):
    decide_proposals(proposals=[proposal], decision="accepted", decided_by=decider)

    again = decide_proposals(proposals=[proposal], decision="accepted", decided_by=decider)

    assert again.decided == []
    assert [(p.pk, reason) for p, reason in again.skipped] == [(proposal.pk, "already accepted")]
    assert len(mail.outbox) == 2


def test_rejecting_uses_the_rejection_and_no_confirmation_link(proposal, call, settings):
    settings.SITE_URL = "https://workshop.example.org"
    call.reject_subject = "About {title}"
    call.reject_body = "Dear {name}, not this time. {proposal_url}"
    call.save()

    decide_proposals(proposals=[proposal], decision="rejected")

    assert [m.subject for m in mail.outbox] == ["About Honest baselines"] * 2
    assert mail.outbox[1].body == (
        "Dear Grace Okafor, not this time. https://workshop.example.org/call/proposals/ABCD2345/"
    )
    assert mail.outbox[0].body == (
        "Dear Ada Lindqvist, not this time. https://workshop.example.org/call/proposals/ABCD2345/"
        + decisions.NOT_JOINED_NOTE
    )


def test_a_letter_without_links_has_no_joining_note(proposal, call):
    call.reject_body = "Dear {name}, not this time."
    call.save()

    decide_proposals(proposals=[proposal], decision="rejected")

    assert [m.body for m in mail.outbox] == [
        "Dear Ada Lindqvist, not this time.",
        "Dear Grace Okafor, not this time.",
    ]


@pytest.mark.parametrize("state", ["withdrawn", "confirmed"])
def test_withdrawn_and_confirmed_proposals_are_not_decided(call, state):
    proposal = ProposalFactory(call=call, state=state)

    outcome = decide_proposals(proposals=[proposal], decision="rejected")

    assert outcome.skipped == [(proposal, f"{state}, so it cannot be decided")]
    assert Proposal.objects.get().state == state
    assert mail.outbox == []


def test_a_decision_whose_e_mails_cannot_be_queued_changes_nothing(proposal, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the mail log is full")

    monkeypatch.setattr(decisions.EmailMessage, "send", fail)

    with pytest.raises(RuntimeError):
        decide_proposals(proposals=[proposal], decision="accepted")

    proposal.refresh_from_db()
    assert (proposal.state, proposal.told_state) == ("submitted", "")


def test_a_decision_may_change_until_the_authors_confirm(proposal):
    decide_proposals(proposals=[proposal], decision="accepted")

    decide_proposals(proposals=[proposal], decision="rejected")

    assert Proposal.objects.get().told_state == "rejected"
    assert len(mail.outbox) == 4


def test_confirming_publishes_the_talk_and_its_speakers(proposal, two_authors):
    decide_proposals(proposals=[proposal], decision="accepted")
    grace = two_authors[0].user

    confirm_proposal(proposal=proposal, user=grace)

    proposal.refresh_from_db()
    assert (proposal.state, proposal.confirmed_by) == ("confirmed", grace)
    assert Talk.objects.published().get() == proposal.talk
    assert set(Speaker.objects.published()) == set(two_authors)


def test_confirming_twice_says_it_is_confirmed(proposal, two_authors):
    decide_proposals(proposals=[proposal], decision="accepted")
    confirm_proposal(proposal=proposal, user=two_authors[0].user)

    with pytest.raises(ProposalError) as error:
        confirm_proposal(proposal=proposal, user=two_authors[0].user)

    assert (error.value.refusal, error.value.message, error.value.status_code) == (
        Refusal.NOT_ACCEPTED,
        "This talk is confirmed already.",
        409,
    )


@pytest.mark.parametrize("state", ["submitted", "rejected", "withdrawn"])
def test_only_an_accepted_proposal_can_be_confirmed(call, two_authors, state):
    proposal = ProposalFactory(call=call, state=state, authors=two_authors)

    with pytest.raises(ProposalError) as error:
        confirm_proposal(proposal=proposal, user=two_authors[0].user)

    assert error.value.refusal == Refusal.NOT_ACCEPTED
    assert Talk.objects.published().count() == 0


def test_only_an_author_can_confirm(proposal):
    decide_proposals(proposals=[proposal], decision="accepted")
    stranger = verified_user(username="mallory", email="mallory@example.org")

    with pytest.raises(ProposalError) as error:
        confirm_proposal(proposal=proposal, user=stranger)

    assert (error.value.refusal, error.value.status_code) == (Refusal.NOT_AUTHOR, 404)
    assert Proposal.objects.get().state == "accepted"
