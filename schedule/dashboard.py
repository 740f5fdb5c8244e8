"""The schedule's panels of the organisers' dashboard (listed in ORGANISER_DASHBOARD_PANELS)."""

from django.db.models import Count

from schedule.models import Call, Proposal
from schedule.reviews import reviews_per_reviewer, too_few_reviews
from schedule.services import find_schedule_problems
from workshop.organisers import Panel

# The schedule check's problems, the same list as the admin's schedule check.
SCHEDULE_PROBLEMS = Panel(
    "schedule.view_slot",
    "organisers/_schedule_problems.html",
    lambda workshop: {"problems": find_schedule_problems(workshop)},
)

# How many proposals there are in each state, how far the review is, and what still needs it.
CALL_FIGURES = Panel(
    "schedule.view_proposal",
    "organisers/_call.html",
    lambda workshop: call_figures(workshop),
)
# At most this many proposals waiting for reviews are named; the admin's filter lists all.
MOST_NAMED = 10


def call_figures(workshop):
    """Return the call's proposals by type and state, the reviews done and those missing."""
    call = Call.objects.filter(workshop=workshop).first()
    if call is None:
        return {"call": None}
    counts = (
        Proposal.objects.filter(call=call)
        .values_list("submission_type__name", "state")
        .annotate(count=Count("pk"))
        .order_by("submission_type__position", "submission_type__name")
    )
    states = list(Proposal.State)
    rows = {}
    for type_name, state, count in counts:
        rows.setdefault(type_name, dict.fromkeys(states, 0))[state] = count
    waiting = list(
        too_few_reviews(Proposal.objects.filter(call=call), call.reviews_wanted)
        .select_related("talk")
        .order_by("review_count", "created_at", "pk")[: MOST_NAMED + 1]
    )
    totals = [sum(by_state[s] for by_state in rows.values()) for s in states]
    return {
        "call": call,
        "states": states,
        "total": sum(totals),
        "rows": [
            (name, [by_state[s] for s in states], sum(by_state.values()))
            for name, by_state in rows.items()
        ],
        "totals": totals,
        "reviewers": reviews_per_reviewer(call),
        "waiting": waiting[:MOST_NAMED],
        "more_waiting": len(waiting) > MOST_NAMED,
    }
