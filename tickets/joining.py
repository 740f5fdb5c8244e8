"""What holders of paid tickets to an online workshop receive to join it.

The workshop's joining details and every stage's stream, those kept off the public pages for
ticket holders included; the stages come from the function named in
settings.TICKETS_HOLDER_STREAMS (the schedule's rooms), so that tickets imports no other app.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Joining:
    details: str  # Markdown written by the organisers
    streams: list  # (stage name, stream link)


def joining_for(order):
    """Return how the order's ticket holders join the workshop, or None if they get nothing."""
    workshop = order.workshop
    if not (order.is_paid and workshop.is_online):
        return None
    streams = import_string(settings.TICKETS_HOLDER_STREAMS)()
    if not workshop.joining_details and not streams:
        return None
    return Joining(details=workshop.joining_details, streams=streams)
