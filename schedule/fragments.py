"""The pieces of the talks list and the schedule grid, each kept under the versions it shows.

The pages load their talks and slots in outline (versions only: ``Talk.objects.outline``,
``Slot.objects.outline``), find the kept pieces, and load in full only what must be rendered.
"""

import dataclasses

from schedule.exports import complete
from schedule.models import Talk
from workshop.fragments import html_fragments, row


def speaker_rows(talk):
    """Return the rows of a talk's published speakers (none for a slot without a talk)."""
    return tuple(row(speaker) for speaker in getattr(talk, "public_speakers", ()))


def talk_items(talks, zone):
    """Return each talk's entry of the talks list, with its times in ``zone``."""

    def inputs(talk):
        slot = talk.scheduled_slot
        room = slot.room if slot else None
        return (row(talk), row(slot), row(room), speaker_rows(talk), zone.key, talk.is_now)

    def in_full(outlines):
        full = Talk.objects.listed().in_bulk([talk.pk for talk in outlines])
        for talk in outlines:
            if talk.pk in full:
                full[talk.pk].is_now = talk.is_now
        return [full.get(talk.pk, talk) for talk in outlines]

    return html_fragments(
        "talk-item",
        talks,
        template="schedule/_talk_item.html",
        includes=("schedule/_when.html", "schedule/_speaker_names.html"),
        name="talk",
        inputs=inputs,
        complete=in_full,
    )


def fill_slot_cells(days, zone):
    """Give each cell of the grid that holds a slot its ``html``, with times in ``zone``."""
    cells = [cell for day in days for grid_row in day.rows for cell in grid_row.cells if cell.slot]

    def inputs(cell):
        slot = cell.slot
        talk = slot.talk if slot.talk_id else None
        layout = (cell.rowspan, cell.colspan, slot.is_now, zone.key)
        return (row(slot), row(talk), speaker_rows(talk), layout)

    def in_full(outlines):
        slots = complete([cell.slot for cell in outlines])
        for slot, cell in zip(slots, outlines, strict=True):
            slot.is_now = cell.slot.is_now
        return [
            dataclasses.replace(cell, slot=slot) for slot, cell in zip(slots, outlines, strict=True)
        ]

    pieces = html_fragments(
        "slot-cell",
        cells,
        template="schedule/_slot_cell.html",
        name="cell",
        inputs=inputs,
        complete=in_full,
    )
    for cell, piece in zip(cells, pieces, strict=True):
        cell.html = piece
