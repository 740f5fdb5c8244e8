"""The pieces of the talks list and the schedule grid, each kept under the versions it shows.

The pages load their talks and slots in outline (versions only: ``Talk.objects.outline``,
``Slot.objects.outline``), find the kept pieces, and load in full only what must be rendered.
"""

import dataclasses

from django.db.models import F

from schedule.exports import complete, versions_of
from schedule.models import Talk
from workshop.fragments import html_fragments, row


@dataclasses.dataclass
class TalkOutline:
    """A published talk in the talks list, as far as its kept piece is concerned."""

    pk: int
    versions: tuple
    is_now: bool


def talk_outlines(now):
    """Return the published talks in list order, each with the versions of what its entry shows.

    Read as plain values (the talk's and its slot's updated_at, its room's name, its published
    speakers' updated_at): building model objects for every talk and speaker took most of the
    time of a render after a change.
    """
    speakers = {}
    for talk_id, *version in (
        Talk.speakers.through.objects.filter(talk__published=True, speaker__published=True)
        .order_by("speaker__name", "speaker_id")
        .values_list("talk_id", "speaker_id", "speaker__updated_at")
    ):
        speakers.setdefault(talk_id, []).append(tuple(version))
    talks = (
        Talk.objects.published()
        .order_by(F("slot__start").asc(nulls_last=True), "title")
        .values_list(
            "id", "updated_at", "slot__updated_at", "slot__start", "slot__end", "slot__room__name"
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
    """Give each cell of the grid that holds a slot its ``html``, with times in ``zone``."""
    cells = [cell for day in days for grid_row in day.rows for cell in grid_row.cells if cell.slot]

    def inputs(cell):
        slot = cell.slot
        layout = (cell.rowspan, cell.colspan, slot.is_now, zone.key)
        return (row(slot), versions_of(slot), layout)

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
