"""Show the programme in the viewer's time zone: the zone choice and the grid of rooms by time."""

import dataclasses
import datetime as dt
import functools
import zoneinfo

from django.utils import timezone
from django.utils.html import format_html_join

from workshop.models import time_zone_names

SESSION_KEY = "schedule_time_zone"


@dataclasses.dataclass(frozen=True)
class ZoneChoice:
    """The zone the programme is shown in, and why."""

    zone: zoneinfo.ZoneInfo
    event_zone: zoneinfo.ZoneInfo
    note: str = ""

    @property
    def name(self):
        return self.zone.key

    @property
    def is_event_zone(self):
        return self.zone.key == self.event_zone.key


def choose_zone(request, workshop):
    """Return the zone to show times in: ``?tz=`` if valid, else the session's, else the event's.

    A valid ``?tz=`` is remembered in the session; an empty one forgets the choice;
    anything else falls back to the event zone with a note.
    """
    event_zone = workshop.tzinfo if workshop else zoneinfo.ZoneInfo("UTC")
    if "tz" in request.GET:
        wanted = request.GET["tz"].strip()
        if not wanted or wanted == event_zone.key:
            request.session.pop(SESSION_KEY, None)
            return ZoneChoice(event_zone, event_zone)
        if _is_zone_name(wanted):
            request.session[SESSION_KEY] = wanted
            return ZoneChoice(zoneinfo.ZoneInfo(wanted), event_zone)
        request.session.pop(SESSION_KEY, None)
        note = (
            f"“{wanted[:60]}” is not a time zone we know, "
            "so times are shown in the event time zone."
        )
        return ZoneChoice(event_zone, event_zone, note)
    remembered = request.session.get(SESSION_KEY)
    if remembered and _is_zone_name(remembered):
        return ZoneChoice(zoneinfo.ZoneInfo(remembered), event_zone)
    return ZoneChoice(event_zone, event_zone)


@functools.cache
def _zone_names():
    # available_timezones() reads the zone files on every call; the set never changes at runtime.
    return frozenset(zoneinfo.available_timezones())


def _is_zone_name(name):
    return len(name) <= 64 and name in _zone_names()


@functools.lru_cache(maxsize=64)
def zone_options(selected):
    """Return the <option>s of every time zone, ``selected`` chosen (rendered once per zone)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((name, " selected" if name == selected else "", name) for name in time_zone_names()),
    )


def zone_label(zone, when):
    """Return e.g. "Europe/Berlin (UTC+01:00)": the zone's name and its offset at ``when``."""
    offset = timezone.localtime(when, zone).utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(offset) // dt.timedelta(minutes=1)
    return f"{zone.key} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"


def next_change(slots, now):
    """Return when what is on changes next (a slot starts or ends after ``now``), or None."""
    return min((t for slot in slots for t in (slot.start, slot.end) if t > now), default=None)


@dataclasses.dataclass
class Cell:
    slot: object = None
    rowspan: int = 1
    colspan: int = 1


@dataclasses.dataclass
class Row:
    start: dt.datetime
    cells: list
    # Set by schedule.fragments.fill_slot_cells: the row's start as a <time>, and its cells in
    # the grid and in the list by time, joined once in Python rather than looped in the template.
    time_html: str = ""
    cells_html: str = ""
    items_html: str = ""


@dataclasses.dataclass
class Day:
    date: dt.date
    rows: list


def build_days(slots, rooms, zone):
    """Return the programme as days of rows (one per start time) of cells (one per room).

    A slot spans the rows of the start times it covers; a slot without a room spans
    all rooms. Days are the calendar days of ``zone``, so they move with the viewer.
    """
    by_date = {}
    for slot in slots:
        by_date.setdefault(timezone.localtime(slot.start, zone).date(), []).append(slot)
    return [Day(date, _rows(day_slots, rooms)) for date, day_slots in sorted(by_date.items())]


def _rows(slots, rooms):
    starts = sorted({slot.start for slot in slots})
    columns = {room.pk: index for index, room in enumerate(rooms)}
    covered = set()  # (row, column) cells taken by a slot from an earlier row
    rows = []
    for row_index, start in enumerate(starts):
        placed = {}
        for slot in slots:
            if slot.start != start:
                continue
            span = sum(1 for other in starts[row_index:] if other < slot.end) or 1
            if slot.room_id is None or slot.room_id not in columns:
                placed[0] = Cell(slot, span, len(rooms) or 1)
            else:
                placed.setdefault(columns[slot.room_id], Cell(slot, span))
        rows.append(Row(start, _cells(placed, covered, row_index, len(rooms) or 1)))
    return rows


def _cells(placed, covered, row_index, width):
    cells = []
    column = 0
    while column < width:
        if (row_index, column) in covered:
            column += 1
            continue
        cell = placed.get(column) or Cell()
        for extra_row in range(cell.rowspan):
            for extra_column in range(cell.colspan):
                covered.add((row_index + extra_row, column + extra_column))
        cells.append(cell)
        column += cell.colspan
    return cells
