"""The speakers panel of the organisers' dashboard (listed in ORGANISER_DASHBOARD_PANELS)."""

from django.utils import timezone

from speakers.models import Invitation
from workshop.organisers import Panel

# The speakers still without an account whose invitation is not yet claimed.
UNCLAIMED_INVITATIONS = Panel(
    "speakers.view_invitation",
    "organisers/_unclaimed_invitations.html",
    lambda workshop: {"invitations": unclaimed_invitations()},
)


def unclaimed_invitations(now=None):
    """Return each unlinked speaker's latest invitation that is neither claimed nor withdrawn.

    Speakers belong to the site rather than to one workshop, so every speaker counts.
    """
    now = now or timezone.now()
    invitations = (
        Invitation.objects.filter(claimed_at=None, withdrawn_at=None, speaker__user=None)
        .select_related("speaker")
        .order_by("speaker__name", "speaker_id", "-created_at", "-pk")
    )
    latest = {}
    for invitation in invitations:
        if invitation.speaker_id not in latest:
            invitation.is_expired = invitation.expires_at <= now
            latest[invitation.speaker_id] = invitation
    return list(latest.values())
