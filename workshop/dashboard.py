"""The workshop's panels of the organisers' dashboard (listed in ORGANISER_DASHBOARD_PANELS)."""

from workshop.models import OutgoingEmail
from workshop.organisers import Panel

# The panel lists this many; the page behind it lists them all.
PANEL_ROWS = 5


def failed_emails_context(workshop):
    failed = OutgoingEmail.objects.failed()
    return {"failed_emails": list(failed[:PANEL_ROWS]), "failed_count": failed.count()}


FAILED_EMAILS = Panel(
    "workshop.view_outgoingemail", "organisers/_failed_emails.html", failed_emails_context
)
