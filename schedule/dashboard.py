"""The schedule panel of the organisers' dashboard (found by workshop.organisers by name)."""

from schedule.services import find_schedule_problems

POSITION = 20


def panels(workshop):
    """Return the schedule check's problems, the same list as the admin's schedule check."""
    return [("organisers/_schedule_problems.html", {"problems": find_schedule_problems(workshop)})]
