"""Every write that touches money, seats or an order's state.

Views, the webhook, admin actions and commands call these functions. Capacity is
checked inside one transaction that locks the ticket type rows, and seats are
counted from the orders that hold them: there is no counter to drift.
"""

from tickets.services.checkout import (
    EVENT_HANDLERS,
    MalformedEvent,
    apply_session,
    cancel_order,
    close_checkout_session,
    expire_checkout_session,
    fail_async_payment,
    fulfil_checkout_session,
    handle_stripe_event,
    record_charge_refund,
    refund_order,
    release_expired_orders,
    start_checkout,
)
from tickets.services.orders import (
    Busy,
    OrderError,
    PaymentUnavailable,
    TooManyUnpaidSeats,
    attendee_edit_open,
    check_in,
    create_order,
    find_voucher,
    is_lock_failure,
    lock_ticket_types,
    mark_invoice_paid,
    quote_order,
    release_order,
    resend_confirmation,
    seats_taken,
    send_order_links,
    update_attendee,
)

__all__ = [
    "EVENT_HANDLERS",
    "Busy",
    "MalformedEvent",
    "OrderError",
    "PaymentUnavailable",
    "TooManyUnpaidSeats",
    "apply_session",
    "attendee_edit_open",
    "cancel_order",
    "check_in",
    "close_checkout_session",
    "create_order",
    "expire_checkout_session",
    "fail_async_payment",
    "find_voucher",
    "fulfil_checkout_session",
    "handle_stripe_event",
    "is_lock_failure",
    "lock_ticket_types",
    "mark_invoice_paid",
    "quote_order",
    "record_charge_refund",
    "refund_order",
    "release_expired_orders",
    "release_order",
    "resend_confirmation",
    "seats_taken",
    "send_order_links",
    "start_checkout",
    "update_attendee",
]
