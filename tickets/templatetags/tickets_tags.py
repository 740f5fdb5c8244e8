from django import template

register = template.Library()


@register.filter
def quantity_range(maximum, minimum=1):
    """Return the quantities a buyer may choose, from the minimum to the maximum."""
    return range(max(int(minimum), 1), int(maximum) + 1)
