"""The ticket shop's rules on a workshop's own fields, run by Workshop.clean (WORKSHOP_CHECKS)."""

from django.core.exceptions import ValidationError

from tickets import money


def check_cancellation_fee(workshop):
    """Refuse a cancellation fee the workshop's currency cannot refund to its smallest unit.

    The fee is taken from refunds, which Stripe makes in the currency's minor unit (ISO 4217's
    exponent, with Stripe's own whole-unit currencies): 2.50 JPY or 10.50 ISK cannot be kept.
    A fee above an order's total is never kept whole: a refund keeps at most what was paid.
    """
    fee, currency = workshop.buyer_cancellation_fee, workshop.currency
    if fee is None or not currency:
        return
    if fee != money.quantize(fee, currency):
        step = money.currency(currency).step
        if step == 1:
            problem = f"Amounts in {currency} have no smaller units: give a whole number."
        else:
            problem = f"Amounts in {currency} go in steps of {money.format_amount(step, currency)}."
        raise ValidationError({"buyer_cancellation_fee": problem})
