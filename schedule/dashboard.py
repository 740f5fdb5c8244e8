"""The schedule panel of the organisers' dashboard (listed in ORGANISER_DASHBOARD_PANELS)."""

from schedule.services import find_schedule_problems
from workshop.organisers import Panel

# The schedule check's problems, the same list as the admin's schedule check.
SCHEDULE_PROBLEMS = Panel(
    "schedule.view_slot",
    "organisers/_schedule_problems.html",
    lambda workshop: {"problems": find_schedule_problems(workshop)},
)
