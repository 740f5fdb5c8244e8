from django import template
from django.db.models import F

from schedule.models import Talk

register = template.Library()


@register.inclusion_tag("schedule/_record.html")
def talk_record():
    """Show the published talks in programme order with their slides and videos.

    The home page of a workshop that has ended shows it as the workshop's record.
    """
    talks = Talk.objects.published().with_schedule()
    return {"talks": list(talks.order_by(F("slot__start").asc(nulls_last=True), "title"))}
