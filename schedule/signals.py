"""Make cached public pages and exports stale when talks, their links, rooms, slots or the
call for proposals change."""

from schedule.models import Call, Question, Room, Slot, SubmissionType, Talk, TalkLink, Track
from workshop.cache import CONTENT, watch_models


def connect():
    """Connect the signals (a talk's speakers too); called once from ScheduleConfig.ready()."""
    watch_models(Talk, TalkLink, Room, Slot, scope=CONTENT)
    # /call/ shows the call, its types, tracks and questions.
    watch_models(Call, SubmissionType, Track, Question, scope=CONTENT)
