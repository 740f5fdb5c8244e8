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
