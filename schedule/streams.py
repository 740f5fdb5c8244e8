"""The stages' stream links that ticket holders receive (named in settings.TICKETS_HOLDER_STREAMS).

Public pages show only ``Room.public_stream_url``; a holder's order page and confirmation
e-mail list every stream, those kept for ticket holders included.
"""

from schedule.models import Room


def holder_streams():
    """Return (stage name, stream link) of every room with a stream, in the grid's order."""
    return list(Room.objects.exclude(stream_url="").values_list("name", "stream_url"))
