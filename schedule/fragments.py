"""The pieces of the talks list and the schedule grid, each kept under the versions it shows.

The pages load their talks and slots in outline (versions only: ``Talk.objects.outline``,
``Slot.objects.outline``), find the kept pieces, and load in full only what must be rendered.
"""

import dataclasses

from django.db.models import F
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from schedule.exports import complete, versions_of
from schedule.models import Talk
from workshop.fragments import code_version, fragments, html_fragments, row, version_text


@dataclasses.dataclass
class TalkOutline:
    """A published talk in the talks list, as far as its kept piece is concerned."""

    pk: int
    versions: tuple
    is_now: bool


def talk_outlines(now):
    """Return the published talks in list order, each with the versions of what its entry shows.

    Read as plain values (the talk's and its slot's updated_at as text, its room's name, its
    published speakers' updated_at as text): building model objects for every talk and speaker,
    and parsing their timestamps, took most of the time of a render after a change.
    """
    speakers = {}
    for talk_id, *version in (
        Talk.speakers.through.objects.filter(talk__published=True, speaker__published=True)
        .order_by("speaker__name", "speaker_id")
        .values_list("talk_id", "speaker_id", version_text("speaker__updated_at"))
    ):
        speakers.setdefault(talk_id, []).append(tuple(version))
    talks = (
        Talk.objects.published()
        .order_by(F("slot__start").asc(nulls_last=True), "title")
        .values_list(
            "id",
            version_text("updated_at"),
            version_text("slot__updated_at"),
            "slot__start",
            "slot__end",
            "slot__room__name",
        )
    )
    return [
        TalkOutline(
            pk=talk_id,
            versions=(
                talk_version,
                slot_version,
                room,
                start,
                end,
                tuple(speakers.get(talk_id, ())),
            ),
            is_now=bool(start and start <= now < end),
        )
        for talk_id, talk_version, slot_version, start, end, room in talks
    ]


def talk_items(zone, now):
    """Return each published talk's entry of the talks list, with its times in ``zone``."""

    def in_full(outlines):
        full = Talk.objects.listed().in_bulk([talk.pk for talk in outlines])
        for talk in outlines:
            full[talk.pk].is_now = talk.is_now
        return [full[talk.pk] for talk in outlines]

    return html_fragments(
        "talk-item",
        talk_outlines(now),
        template="schedule/_talk_item.html",
        includes=("schedule/_when.html", "schedule/_speaker_names.html"),
        name="talk",
        inputs=lambda talk: (talk.versions, zone.key, talk.is_now),
        complete=in_full,
    )


def fill_slot_cells(days, zone):
    """Give each cell of the grid that holds a slot its ``html`` and its ``item_html``.

    ``html`` is the slot's cell of the grid, ``item_html`` its entry of the list by time that
    phones get instead (both in the page: the stylesheet shows one). They are kept as one
    piece so that a slot to render is loaded in full once, whichever of them changed.
    """
    cells = [cell for day in days for grid_row in day.rows for cell in grid_row.cells if cell.slot]

    def inputs(cell):
        slot = cell.slot
        layout = (cell.rowspan, cell.colspan, slot.is_now, zone.key)
        return (row(slot), row(slot.room) if slot.room_id else None, versions_of(slot), layout)

    def in_full(outlines):
        slots = complete([cell.slot for cell in outlines])
        for slot, cell in zip(slots, outlines, strict=True):
            slot.is_now = cell.slot.is_now
        return [
            dataclasses.replace(cell, slot=slot) for slot, cell in zip(slots, outlines, strict=True)
        ]

    templates = [get_template(name) for name in (CELL_TEMPLATE, ITEM_TEMPLATE)]
    pieces = fragments(
        "slot-cell",
        cells,
        inputs=inputs,
        render=lambda cell: tuple(template.render({"cell": cell}) for template in templates),
        code=code_version(CELL_TEMPLATE, ITEM_TEMPLATE),
        complete=in_full,
    )
    for cell, (html, item_html) in zip(cells, pieces, strict=True):
        cell.html, cell.item_html = SafeString(html), SafeString(item_html)
    join_rows(days, zone)


EMPTY_CELL = '<td class="slot-empty"></td>'


def join_rows(days, zone):
    """Give each row of the grid its start as a <time> and its cells joined, grid and list.

    A grid of 300 slots has about a thousand cells: looping over them in the template (and
    formatting each row's time with the ``date`` filter) took half of a render after a change.
    """
    for day in days:
        for grid_row in day.rows:
            local = timezone.localtime(grid_row.start, zone)
            grid_row.time_html = format_html(
                '<time datetime="{}">{}</time>', local.isoformat(), local.strftime("%H:%M")
            )
            grid_row.cells_html = SafeString(
                "".join(cell.html if cell.slot else EMPTY_CELL for cell in grid_row.cells)
            )
            grid_row.items_html = SafeString(
                "".join(cell.item_html for cell in grid_row.cells if cell.slot)
            )


CELL_TEMPLATE = "schedule/_slot_cell.html"
ITEM_TEMPLATE = "schedule/_slot_item.html"
