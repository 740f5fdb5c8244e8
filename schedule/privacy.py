"""The call for proposals' part of a person's data: their proposals and the reviews they wrote.

A confirmed proposal is a talk of the public programme, kept like the speaker profile that
goes with it. Any other proposal whose only author is the person is theirs alone: deleting
the account deletes it with its talk, answers and reviews. A proposal written with others
stays theirs too; the person's speaker profile is unlinked from the account by the speakers'
part. Reviews the person wrote go with the account.
"""

from django.db import transaction
from django.db.models import Count, Prefetch

from schedule.models import Answer, Proposal, Review, Talk


def export_user_data(user):
    """Return the person's proposals and reviews, as JSON-ready data."""
    answers = Prefetch("answers", queryset=Answer.objects.select_related("question"))
    proposals = (
        Proposal.objects.of_author(user)
        .select_related("talk", "submission_type", "call__workshop")
        .prefetch_related(answers)
        .order_by("created_at", "pk")
    )
    reviews = Review.objects.filter(reviewer=user).select_related("proposal__talk")
    return {
        "proposals": [proposal_data(proposal) for proposal in proposals],
        "reviews_written": [
            {
                "proposal": review.proposal.talk.title,
                "score": review.score,
                "comment": review.comment,
                "written_at": review.created_at,
            }
            for review in reviews.order_by("created_at", "pk")
        ],
    }


def proposal_data(proposal):
    talk = proposal.talk
    return {
        "workshop": proposal.call.workshop.title,
        "title": talk.title,
        "type": proposal.submission_type.name,
        "track": talk.track,
        "abstract": talk.abstract,
        "description": talk.description,
        "notes_for_the_organisers": proposal.notes,
        "answers": {answer.question.text: answer.value for answer in proposal.answers.all()},
        "state": proposal.state,
        "sent_at": proposal.created_at,
    }


@transaction.atomic
def erase_user_data(user):
    """Delete the person's own proposals that are not on the programme, with their talks."""
    alone = (
        Proposal.objects.of_author(user)
        .exclude(state=Proposal.State.CONFIRMED)
        .annotate(authors=Count("talk__speakers"))
        .filter(authors=1)
    )
    talks = Talk.objects.filter(proposal__in=list(alone.values_list("pk", flat=True)))
    deleted = talks.count()
    # A talk's proposal, answers and reviews go with it.
    talks.delete()
    return {"proposals": f"{deleted} deleted"}
