"""Make cached public pages and exports stale when talks, their links, rooms or slots change."""

from schedule.models import Room, Slot, Talk, TalkLink
from workshop.cache import CONTENT, watch_models


def connect():
    """Connect the signals (a talk's speakers too); called once from ScheduleConfig.ready()."""
    watch_models(Talk, TalkLink, Room, Slot, scope=CONTENT)
