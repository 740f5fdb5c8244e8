"""Why an order service refused: the reasons, in words for the buyer or the organiser."""


class OrderError(Exception):
    """A reason, in words for the buyer or organiser, why something cannot be done."""


class Busy(OrderError):
    """A lock could not be taken in time: the buyer should try again."""


class TooManyUnpaidSeats(OrderError):
    """The buyer's address or network already holds as many unpaid seats as allowed."""


class PaymentUnavailable(OrderError):
    """Stripe could not be reached or refused; nothing was charged."""
