"""Make the cached ticket page stale when what is on sale, or what is left, changes."""

from tickets.models import Order, Ticket, TicketType, Voucher
from workshop.cache import TICKETS, watch_models


def connect():
    """Connect the signals (vouchers' ticket types too); called once from TicketsConfig.ready()."""
    # Every order and ticket change bumps, so "N left" is exact; the page's short lifetime
    # covers what changes with the clock alone (reservations running out, sale windows).
    watch_models(TicketType, Voucher, Order, Ticket, scope=TICKETS)
