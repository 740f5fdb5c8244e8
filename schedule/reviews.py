"""Reviewing proposals: who may review which, one review per reviewer, and the ranking.

A reviewer never sees or reviews a proposal they are an author of. Scores are on the call's
own scale. Reviews are taken while a proposal is submitted: once it is decided or withdrawn
there is nothing left to weigh.
"""

import dataclasses

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import Avg, Count, Exists, F, Max, Min, OuterRef, Q
from django.utils import timezone

from schedule.models import Proposal, Review
from schedule.proposals import ProposalError, Refusal, lock_proposal
from speakers.models import Speaker

State = Proposal.State


def addresses_of(user):
    """Return the e-mail addresses of ``user``'s account, lower-cased."""
    addresses = {user.email} | set(
        EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    )
    return {address.lower() for address in addresses if address}


def named_author_of(user):
    """Return the proposals ``user`` is an author of, or invited to join by one of their
    addresses: an invited co-author is an author before they accept."""
    named = Q(talk__speakers__user=user)
    for address in addresses_of(user):
        named |= Q(talk__speakers__email__iexact=address)
    return Proposal.objects.filter(named)


def reviewable_by(user, call):
    """Return the proposals of ``call`` that ``user`` may see as a reviewer: not their own."""
    return (
        Proposal.objects.filter(call=call)
        .exclude(state=State.WITHDRAWN)
        .exclude(pk__in=named_author_of(user).values("pk"))
    )


def with_own_review(queryset, user):
    """Annotate ``my_score`` (None: not reviewed yet) of ``user`` on each proposal."""
    mine = Review.objects.filter(proposal=OuterRef("pk"), reviewer=user)
    return queryset.annotate(
        reviewed=Exists(mine), my_score=mine.values("score")[:1]
    ).select_related("talk", "submission_type")


def by_outsiders():
    """Return the condition, on a proposal's reviews, of those by people who are not its authors.

    Someone may review a proposal and join it as a co-author later: their score stops counting.
    """
    authors = Speaker.objects.filter(talks=OuterRef("talk"), user=OuterRef("reviews__reviewer"))
    return ~Exists(authors)


def ranked(queryset):
    """Annotate each proposal's review count, mean score and spread; best first."""
    counted = by_outsiders()
    return queryset.annotate(
        review_count=Count("reviews", filter=counted),
        mean_score=Avg("reviews__score", filter=counted),
        lowest_score=Min("reviews__score", filter=counted),
        highest_score=Max("reviews__score", filter=counted),
    ).order_by(F("mean_score").desc(nulls_last=True), "-review_count", "talk__title")


def too_few_reviews(queryset, wanted):
    """Return the proposals still waiting for a decision with fewer than ``wanted`` reviews."""
    return (
        queryset.filter(state=State.SUBMITTED)
        .annotate(review_count=Count("reviews", filter=by_outsiders()))
        .filter(review_count__lt=wanted)
    )


@dataclasses.dataclass(frozen=True)
class ReviewsPerReviewer:
    name: str
    count: int


def reviews_per_reviewer(call):
    """Return how many proposals of ``call`` each reviewer has reviewed, most first."""
    authors = Speaker.objects.filter(talks=OuterRef("proposal__talk"), user=OuterRef("reviewer"))
    rows = (
        Review.objects.filter(proposal__call=call)
        .exclude(Exists(authors))
        .values("reviewer__email", "reviewer__username")
        .annotate(count=Count("pk"))
        .order_by("-count", "reviewer__email")
    )
    return [
        ReviewsPerReviewer(row["reviewer__email"] or row["reviewer__username"], row["count"])
        for row in rows
    ]


def own_proposal():
    return ProposalError(
        Refusal.OWN_PROPOSAL, "You are an author of this proposal, so you cannot review it."
    )


def check_reviewable(proposal, reviewer):
    """Refuse a review by one of the authors, or of a proposal no longer waiting for one."""
    if named_author_of(reviewer).filter(pk=proposal.pk).exists():
        raise own_proposal()
    if proposal.state == State.WITHDRAWN:
        raise ProposalError(Refusal.WITHDRAWN, "This proposal has been withdrawn.")
    if proposal.state != State.SUBMITTED:
        raise ProposalError(
            Refusal.NOT_EDITABLE,
            f"This proposal is {proposal.get_state_display().lower()} already: reviews are closed.",
        )


@transaction.atomic
def save_review(*, proposal, reviewer, score, comment="", now=None):
    """Keep ``reviewer``'s score and comment of ``proposal``, replacing their earlier review."""
    proposal = lock_proposal(proposal)
    check_reviewable(proposal, reviewer)
    call = proposal.call
    if score not in call.scores:
        raise ProposalError(
            Refusal.BAD_SCORE,
            f"Give a score from {call.lowest_score} to {call.highest_score}.",
        )
    review, _created = Review.objects.update_or_create(
        proposal=proposal,
        reviewer=reviewer,
        defaults={"score": score, "comment": comment},
        create_defaults={
            "score": score,
            "comment": comment,
            "created_at": now or timezone.now(),
        },
    )
    return review


def proposals_needing_review(call, user):
    """Return ``user``'s reviewable proposals of ``call`` still waiting for a decision."""
    return (
        reviewable_by(user, call).filter(state=State.SUBMITTED).filter(~Q(reviews__reviewer=user))
    )
