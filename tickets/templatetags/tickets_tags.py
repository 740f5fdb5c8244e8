from django import template

from tickets.money import format_amount

register = template.Library()


@register.filter
def quantity_range(maximum, minimum=1):
    """Return the quantities a buyer may choose, from the minimum to the maximum."""
    return range(max(int(minimum), 1), int(maximum) + 1)


@register.filter
def money(amount, currency):
    """Show an amount with as many decimals as its currency has, e.g. 25.00 EUR or 1500 JPY."""
    return format_amount(amount, currency)


@register.filter
def signed_money(amount, currency):
    """Show an amount like ``money``, a negative one with a minus sign: −25.00 EUR."""
    shown = money(abs(amount), currency)
    return f"\u2212{shown}" if amount < 0 else shown
