"""Reviewing proposals: one review a reviewer, never of one's own, on the call's scale."""

import pytest

from schedule.models import Proposal, Review
from schedule.proposals import ProposalError, Refusal
from schedule.reviews import ranked, reviewable_by, reviews_per_reviewer, save_review
from tests.factories import OrganiserFactory, ProposalFactory, SpeakerFactory, TalkFactory
from workshop.roles import REVIEWER

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    return OrganiserFactory(username="rita", email="rita@example.org", role=REVIEWER)


def proposal_titled(call, title, **kwargs):
    return ProposalFactory(call=call, talk=TalkFactory(title=title, published=False), **kwargs)


def test_a_review_is_kept_and_changed_not_repeated(call, reviewer):
    proposal = proposal_titled(call, "Honest baselines")

    save_review(proposal=proposal, reviewer=reviewer, score=2, comment="Thin.")
    save_review(proposal=proposal, reviewer=reviewer, score=4, comment="Better on reading.")

    review = Review.objects.get()
    assert (review.reviewer, review.score, review.comment) == (reviewer, 4, "Better on reading.")


def test_an_author_cannot_review_their_own_proposal(call, reviewer):
    proposal = proposal_titled(call, "Mine", authors=[SpeakerFactory(user=reviewer)])

    with pytest.raises(ProposalError) as error:
        save_review(proposal=proposal, reviewer=reviewer, score=5)

    assert (error.value.refusal, error.value.status_code) == (Refusal.OWN_PROPOSAL, 403)
    assert error.value.message == "You are an author of this proposal, so you cannot review it."
    assert Review.objects.count() == 0


@pytest.mark.parametrize("score", [0, 6, -1])
def test_a_score_off_the_calls_scale_is_refused(call, reviewer, score):
    proposal = proposal_titled(call, "Honest baselines")

    with pytest.raises(ProposalError) as error:
        save_review(proposal=proposal, reviewer=reviewer, score=score)

    assert (error.value.refusal, error.value.message) == (
        Refusal.BAD_SCORE,
        "Give a score from 1 to 5.",
    )
    assert Review.objects.count() == 0


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("withdrawn", "This proposal has been withdrawn."),
        ("accepted", "This proposal is accepted already: reviews are closed."),
    ],
)
def test_a_proposal_no_longer_waiting_takes_no_review(call, reviewer, state, message):
    proposal = proposal_titled(call, "Decided", state=state)

    with pytest.raises(ProposalError) as error:
        save_review(proposal=proposal, reviewer=reviewer, score=3)

    assert error.value.message == message
    assert Review.objects.count() == 0


def test_reviewers_see_the_calls_proposals_but_their_own(call, reviewer):
    mine = proposal_titled(call, "Mine", authors=[SpeakerFactory(user=reviewer)])
    others = proposal_titled(call, "Theirs")
    proposal_titled(call, "Withdrawn", state="withdrawn")

    seen = set(reviewable_by(reviewer, call))

    assert seen == {others}
    assert mine not in seen


def test_proposals_rank_by_mean_score_with_their_spread(call, reviewer):
    second = OrganiserFactory(username="sam", role=REVIEWER)
    strong = proposal_titled(call, "Strong")
    split = proposal_titled(call, "Split")
    unread = proposal_titled(call, "Unread")
    for person, scores in [(reviewer, (5, 1)), (second, (4, 5))]:
        save_review(proposal=strong, reviewer=person, score=scores[0])
        save_review(proposal=split, reviewer=person, score=scores[1])

    rows = [
        (p.talk.title, p.review_count, p.mean_score, p.lowest_score, p.highest_score)
        for p in ranked(Proposal.objects.filter(call=call))
    ]

    assert rows == [
        ("Strong", 2, 4.5, 4, 5),
        ("Split", 2, 3.0, 1, 5),
        ("Unread", 0, None, None, None),
    ]
    assert unread.reviews.count() == 0


def test_reviews_are_counted_per_reviewer(call, reviewer):
    for title in ("One", "Two"):
        save_review(proposal=proposal_titled(call, title), reviewer=reviewer, score=3)

    assert [(r.name, r.count) for r in reviews_per_reviewer(call)] == [("rita@example.org", 2)]


def test_a_review_by_someone_who_became_an_author_does_not_count(call, reviewer):
    # Rita reviewed, then joined the proposal as a co-author: her score no longer ranks it.
    second = OrganiserFactory(username="sam", role=REVIEWER)
    joined = proposal_titled(call, "Joined later")
    save_review(proposal=joined, reviewer=reviewer, score=5)
    save_review(proposal=joined, reviewer=second, score=2)
    joined.talk.speakers.add(SpeakerFactory(user=reviewer))

    (row,) = ranked(Proposal.objects.filter(call=call))

    assert (row.review_count, row.mean_score, row.lowest_score, row.highest_score) == (
        1,
        2.0,
        2,
        2,
    )
    assert [(r.name, r.count) for r in reviews_per_reviewer(call)] == [("sam@example.org", 1)]
