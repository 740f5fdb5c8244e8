"""Spreadsheet of talks for organisers (see workshop.spreadsheets).

The public c3voc and iCalendar exports live in schedule/exports.py.
"""

from django.conf import settings

from workshop.spreadsheets import Table


def talk_rows(talks):
    """Yield one row per talk: what, who, when and where, and whether it is public."""
    for talk in talks.select_related("slot__room").prefetch_related("speakers"):
        slot = talk.scheduled_slot
        room = ""
        if slot:
            room = slot.room.name if slot.room else "All rooms"
        yield [
            talk.title,
            talk.get_kind_display(),
            "; ".join(speaker.name for speaker in talk.speakers.all()),
            talk.track,
            talk.get_level_display(),
            talk.language,
            slot.start if slot else None,
            slot.end if slot else None,
            room,
            "published" if talk.published else "draft",
            settings.SITE_URL + talk.get_absolute_url(),
            talk.slides_url,
            talk.video_url,
        ]


TALKS = Table(
    name="talks",
    header=(
        "Title",
        "Kind",
        "Speakers",
        "Track",
        "Level",
        "Language",
        "Start",
        "End",
        "Room",
        "State",
        "Page",
        "Slides",
        "Video",
    ),
    rows=talk_rows,
)
