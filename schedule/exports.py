"""Build the schedule exports: iCalendar, frab / c3voc XML and JSON.

Every id is derived from the talk or slot primary key and the workshop slug, never from
row order, so calendars and conference apps keep recognising an entry after changes.
"""

import datetime as dt
import json
import re
import secrets
import uuid
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from lxml import etree

from schedule.models import GUID_NAMESPACE, Room, Slot, Talk, TalkLink
from workshop.fragments import code_version, fragments, row, version_text

GENERATOR = {"name": "workshop-site", "version": "1.0"}
TIMESLOT = "00:05"
# frab event types for our talk kinds.
EVENT_TYPES = {
    "talk": "talk",
    "keynote": "keynote",
    "tutorial": "workshop",
    "panel": "discussion",
    "interactive": "hands-on",
    "lightning": "lightning",
    "poster": "poster",
}
# Plain slots get ids far above any talk's so the two never collide.
PLAIN_SLOT_ID_BASE = 1_000_000_000


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def site_host():
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def acronym(workshop):
    """Return the workshop slug in the form both schemas accept (no hyphens, 4+ characters)."""
    value = re.sub(r"[^a-z0-9_]", "_", workshop.slug.lower()).strip("_") or "workshop"
    return value if len(value) >= 4 else f"{value}_workshop"


def load_programme(workshop):
    """Return the public slots (in outline: see ``complete``) and the rooms of the programme.

    Each slot carries its room, its talk's version and track (``Slot.objects.outline``), and
    the versions of its talk's published speakers and the rows of its links, read as plain
    values: building model objects for every talk, speaker and link took most of the time.
    """
    slots = list(Slot.objects.outline(workshop))
    rooms = list(
        Room.objects.filter(slots__workshop=workshop).distinct().order_by("position", "name")
    )
    rooms_by_id = {room.pk: room for room in rooms}
    in_programme = {"talk__slot__workshop": workshop, "talk__published": True}
    speakers, links = {}, {}
    for talk_id, *version in (
        Talk.speakers.through.objects.filter(**in_programme, speaker__published=True)
        .order_by("speaker__name", "speaker_id")
        .values_list("talk_id", "speaker_id", version_text("speaker__updated_at"))
    ):
        speakers.setdefault(talk_id, []).append(tuple(version))
    for link in TalkLink.objects.filter(**in_programme).values_list(*LINK_VALUES):
        links.setdefault(link[1], []).append(link)
    for slot in slots:
        if slot.room_id:
            slot.room = rooms_by_id[slot.room_id]
        slot.speaker_versions = tuple(speakers.get(slot.talk_id, ()))
        slot.link_rows = tuple(links.get(slot.talk_id, ()))
    return slots, rooms


LINK_VALUES = ("id", "talk_id", "title", "url", "kind", "position")


def is_outline(slot):
    """Return whether ``slot`` holds only versions of its talk (``load_programme``)."""
    return hasattr(slot, "talk_version")


def versions_of(slot):
    """Return what tells the slot's talk, speakers and links apart: versions, or their rows."""
    if is_outline(slot):
        return (slot.slot_version, slot.talk_version, slot.speaker_versions, slot.link_rows)
    if not slot.talk_id:
        return (None, (), ())
    talk = slot.talk
    speakers = tuple(row(speaker) for speaker in talk.public_speakers)
    return (row(talk), speakers, tuple(row(link) for link in links_of(talk)))


def links_of(talk):
    """Return a talk's links, as loaded by ``Slot.objects.programme`` or through its manager."""
    listed = getattr(talk, "link_list", None)
    return listed if listed is not None else list(talk.links.all())


def complete(slots):
    """Return the slots loaded in full, in the same order: those in outline are loaded again.

    The pages and exports load in full only the slots whose kept piece must be rendered anew.
    """
    outlines = [slot.pk for slot in slots if slot.talk_id and is_outline(slot)]
    if not outlines:
        return list(slots)
    workshop_id = slots[0].workshop_id
    full = Slot.objects.programme(workshop_id).filter(pk__in=outlines).in_bulk()
    return [full.get(slot.pk, slot) for slot in slots]


class Entry:
    """One exported item: a scheduled talk or a plain slot (welcome, discussion)."""

    def __init__(self, slot, workshop):
        self.slot = slot
        self.workshop = workshop

    @cached_property
    def talk(self):
        # Read only for entries to render: in an outline the talk is not loaded.
        return self.slot.talk if self.slot.talk_id else None

    @property
    def id(self):
        return self.talk.pk if self.talk else PLAIN_SLOT_ID_BASE + self.slot.pk

    @property
    def guid(self):
        if self.talk:
            return str(self.talk.guid(self.workshop.slug))
        return str(uuid.uuid5(GUID_NAMESPACE, f"{self.workshop.slug}/slot/{self.slot.pk}"))

    @property
    def title(self):
        return self.slot.display_title

    @property
    def slug(self):
        if self.talk:
            tail = slugify(self.talk.slug).lower().replace("-", "_")
            value = f"{acronym(self.workshop)}-talk-{self.talk.pk}-{tail}"
        else:
            value = f"{acronym(self.workshop)}-slot-{self.slot.pk}"
        return value.rstrip("-_")

    @property
    def url(self):
        if self.talk:
            return absolute(self.talk.get_absolute_url())
        return absolute(f"{reverse('schedule:schedule')}#slot-{self.slot.pk}")

    @property
    def type(self):
        return EVENT_TYPES.get(self.talk.kind, "talk") if self.talk else "other"

    @property
    def room_name(self):
        return self.slot.room.name if self.slot.room else "All rooms"

    @property
    def speakers(self):
        return self.talk.public_speakers if self.talk else []

    @cached_property
    def talk_links(self):
        return links_of(self.talk) if self.talk else []

    @property
    def stamp(self):
        """Return when the entry last changed (iCalendar DTSTAMP)."""
        if self.talk:
            return max(self.slot.updated_at, self.talk.updated_at)
        return self.slot.updated_at

    def links(self):
        """Return (type, url, title) of the entry's links, with the schemas' link types only."""
        if not self.talk:
            return []
        links = []
        if self.talk.slides_url:
            links.append(("slides", self.talk.slides_url, "Slides"))
        if self.talk.video_url:
            links.append(("media", self.talk.video_url, "Video"))
        links += [(link.kind, link.url, link.title) for link in self.talk_links]
        return links

    def local_start(self):
        return timezone.localtime(self.slot.start, self.workshop.tzinfo)


def entries(slots, workshop):
    """Return the exported entries: talks and plain slots other than breaks."""
    return [Entry(slot, workshop) for slot in slots if slot.talk_id or not slot.is_break]


def _entry_inputs(entry):
    """Return what tells an exported entry apart (see workshop/fragments.py)."""
    slot = entry.slot
    workshop = (entry.workshop.slug, entry.workshop.time_zone, settings.SITE_URL)
    return (row(slot), row(slot.room), versions_of(slot), workshop)


def pieces(kind, items, render):
    """Return each entry of an export rendered by ``render``, rendering only changed ones."""
    return fragments(
        kind,
        items,
        inputs=_entry_inputs,
        render=render,
        code=code_version(__file__),
        complete=_complete_entries,
    )


def _complete_entries(outlines):
    slots = complete([entry.slot for entry in outlines])
    return [Entry(slot, entry.workshop) for slot, entry in zip(slots, outlines, strict=True)]


def duration(delta):
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def speaker_guid(speaker, workshop):
    return str(uuid.uuid5(GUID_NAMESPACE, f"{workshop.slug}/speaker/{speaker.pk}"))


# iCalendar -----------------------------------------------------------------------------


def build_ics(workshop, slots, *, name=None):
    """Return an RFC 5545 calendar of the slots (bytes), named ``name`` or the workshop's title."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{site_host()}//{GENERATOR['name']} {GENERATOR['version']}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name or workshop.title)
    calendar.add("x-wr-timezone", workshop.time_zone)
    events = pieces("ics-event", entries(slots, workshop), lambda e: _ics_event(e).to_ical())
    first = workshop.starts_at.date() - dt.timedelta(days=366)
    last = workshop.ends_at.date() + dt.timedelta(days=366)
    # Events are written in the event's zone, which is declared before them; UTC times are
    # written with "Z", and UTC is still declared for readers that want it.
    if events or workshop.time_zone == "UTC":
        try:
            zone = icalendar.Timezone.from_tzid(
                workshop.time_zone, first_date=first, last_date=last
            )
        except ValueError:  # a zone icalendar cannot describe: readers fall back on TZID
            zone = None
        if zone is not None:
            calendar.add_component(zone)
    end = b"END:VCALENDAR\r\n"
    head = calendar.to_ical()
    return head.removesuffix(end) + b"".join(events) + end


def _ics_event(entry):
    zone = entry.workshop.tzinfo
    event = icalendar.Event()
    event.add("uid", f"{entry.guid}@{site_host()}")
    event.add("dtstamp", entry.stamp.astimezone(dt.UTC).replace(microsecond=0))
    event.add("dtstart", timezone.localtime(entry.slot.start, zone))
    event.add("dtend", timezone.localtime(entry.slot.end, zone))
    event.add("summary", entry.title)
    event.add("url", entry.url)
    event.add("location", entry.room_name)
    description = [entry.talk.abstract] if entry.talk and entry.talk.abstract else []
    if entry.speakers:
        description.append("Speakers: " + ", ".join(s.name for s in entry.speakers))
    if entry.slot.room and entry.slot.room.public_stream_url:
        description.append(f"Stream: {entry.slot.room.public_stream_url}")
    description.append(entry.url)
    event.add("description", "\n\n".join(description))
    if entry.talk:
        event.add("categories", [entry.talk.get_kind_display()])
    return event


# frab / c3voc -----------------------------------------------------------------------------


def _days(workshop, slots):
    """Return [(index, date, day_start, day_end, [entries])] in the event's zone."""
    zone = workshop.tzinfo
    by_date = {}
    for entry in entries(slots, workshop):
        by_date.setdefault(entry.local_start().date(), []).append(entry)
    start_date = workshop.local_starts_at.date()
    end_date = workshop.local_ends_at.date()
    days = []
    date = start_date
    index = 1
    while date <= end_date:
        midnight = dt.datetime.combine(date, dt.time(0), zone)
        next_midnight = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), zone)
        day_start = max(workshop.local_starts_at, midnight)
        day_end = min(workshop.local_ends_at, next_midnight)
        days.append((index, date, day_start, day_end, by_date.pop(date, [])))
        date += dt.timedelta(days=1)
        index += 1
    for date, extra in sorted(by_date.items()):  # slots outside the dates: still exported
        midnight = dt.datetime.combine(date, dt.time(0), zone)
        days.append((index, date, midnight, midnight + dt.timedelta(days=1), extra))
        index += 1
    return days


def _rooms_of(day_entries, rooms):
    """Return [(room name, room or None, entries)] in room order; plain slots go first."""
    grouped = {}
    for entry in day_entries:
        grouped.setdefault(entry.slot.room_id, []).append(entry)
    result = []
    if None in grouped:
        result.append(("All rooms", None, grouped.pop(None)))
    for room in rooms:
        if room.pk in grouped:
            result.append((room.name, room, grouped.pop(room.pk)))
    return result


def room_guid(room, workshop):
    return str(uuid.uuid5(GUID_NAMESPACE, f"{workshop.slug}/room/{room.pk if room else 'all'}"))


def _time_zone_name(workshop):
    name = workshop.time_zone
    return name if re.search(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$", name) else None


def _tracks(slots):
    return sorted({slot.talk_track for slot in slots if slot.talk_id and slot.talk_track})


# Where an event's piece goes in the skeleton of the XML document; text cannot forge it.
XML_PLACEHOLDER = re.compile(rb'<event-piece n="(\d+)"/>')


def build_xml(workshop, slots, rooms):
    """Return the frab / c3voc schedule XML (bytes)."""
    days = _days(workshop, slots)
    listed = [entry for day in days for entry in day[4]]
    piece_of = dict(zip(map(id, listed), pieces("xml-event", listed, _xml_event), strict=True))
    placed = []  # the pieces in document order, replacing the placeholders
    root = etree.Element("schedule")
    etree.SubElement(root, "generator", name=GENERATOR["name"], version=GENERATOR["version"])
    etree.SubElement(root, "url").text = absolute(reverse("schedule:schedule_xml"))
    etree.SubElement(root, "version").text = _version(slots)
    conference = etree.SubElement(root, "conference")
    for tag, value in [
        ("acronym", acronym(workshop)),
        ("title", workshop.title),
        ("start", workshop.local_starts_at.isoformat()),
        ("end", workshop.local_ends_at.isoformat()),
        ("days", str(len(days))),
        ("timeslot_duration", TIMESLOT),
        ("base_url", absolute("/")),
        ("url", absolute(reverse("schedule:schedule"))),
        ("time_zone_name", workshop.time_zone),
    ]:
        etree.SubElement(conference, tag).text = value
    for track in _tracks(slots):
        etree.SubElement(conference, "track", name=track)
    for index, date, day_start, day_end, day_entries in days:
        day = etree.SubElement(
            root,
            "day",
            index=str(index),
            date=date.isoformat(),
            start=day_start.isoformat(),
            end=day_end.isoformat(),
        )
        for name, room, room_entries in _rooms_of(day_entries, rooms):
            room_element = etree.SubElement(day, "room", name=name, guid=room_guid(room, workshop))
            for entry in room_entries:
                etree.SubElement(room_element, "event-piece", n=str(len(placed)))
                placed.append(piece_of[id(entry)])
    etree.indent(root)
    skeleton = etree.tostring(root, xml_declaration=True, encoding="utf-8") + b"\n"
    return XML_PLACEHOLDER.sub(lambda match: placed[int(match[1])], skeleton)


def _xml_event(entry):
    """Return an event's XML, indented for its place (schedule, day, room, event)."""
    event = etree.Element("event", guid=entry.guid, id=str(entry.id))
    talk = entry.talk
    start = entry.local_start()
    values = [
        ("date", start.isoformat()),
        ("start", start.strftime("%H:%M")),
        ("duration", duration(entry.slot.duration)),
        ("room", entry.room_name),
        ("slug", entry.slug),
        ("url", entry.url),
        ("title", entry.title),
        ("subtitle", ""),
        ("track", talk.track if talk else ""),
        ("type", entry.type),
        ("language", talk.language if talk else "en"),
        ("abstract", talk.abstract if talk else ""),
        ("description", talk.description if talk else ""),
    ]
    for tag, value in values:
        etree.SubElement(event, tag).text = value
    persons = etree.SubElement(event, "persons")
    for speaker in entry.speakers:
        person = etree.SubElement(
            persons, "person", id=str(speaker.pk), guid=speaker_guid(speaker, entry.workshop)
        )
        person.text = speaker.name
    links = etree.SubElement(event, "links")
    for kind, url, title in entry.links():
        etree.SubElement(links, "link", href=url, type=kind).text = title
    etree.indent(event, level=3)
    return etree.tostring(event, encoding="utf-8")


def _version(slots):
    """Return when the slots (in outline) or their talks last changed, as the exports say it."""
    versions = [slot.slot_version for slot in slots] + [
        slot.talk_version for slot in slots if slot.talk_id
    ]
    latest = latest_version(versions)
    return latest.strftime("%Y-%m-%d %H:%M:%S UTC") if latest else "empty"


def latest_version(versions):
    """Return the latest of ``versions`` (``version_text``: one database's texts) in UTC, or None.

    PostgreSQL writes "2026-12-03 13:36:21.3245+00" (fraction without trailing zeros, none when
    zero), SQLite "2026-12-03 13:36:21.324500" in UTC: as texts of one database they sort as
    their times do, so that only the latest is parsed.
    """
    if not versions:
        return None
    latest = dt.datetime.fromisoformat(max(versions))
    return latest.replace(tzinfo=dt.UTC) if latest.tzinfo is None else latest.astimezone(dt.UTC)


def build_json(workshop, slots, rooms):
    """Return the frab / c3voc schedule JSON (bytes)."""
    days = _days(workshop, slots)
    listed = [entry for day in days for entry in day[4]]
    piece_of = dict(zip(map(id, listed), pieces("json-event", listed, _json_event), strict=True))
    # The days hold the events' pieces as they are; the rest is serialised around a marker.
    marker = f"days-{secrets.token_hex(8)}"
    conference = {
        "acronym": acronym(workshop),
        "title": workshop.title,
        "description": workshop.tagline,
        "start": workshop.local_starts_at.isoformat(),
        "end": workshop.local_ends_at.isoformat(),
        "daysCount": len(days),
        "timeslot_duration": TIMESLOT,
        "url": absolute(reverse("schedule:schedule")),
        "keywords": workshop.keyword_list,
        "tracks": [{"name": track, "slug": _track_slug(track)} for track in _tracks(slots)],
        "rooms": [_json_room(room, workshop) for room in rooms],
        "days": marker,
    }
    zone_name = _time_zone_name(workshop)
    if zone_name:
        conference["time_zone_name"] = zone_name
    data = {
        "$schema": "https://c3voc.de/schedule/schema.json",
        "generator": {**GENERATOR, "url": absolute("/")},
        "schedule": {
            "version": _version(slots),
            "base_url": absolute("/"),
            "conference": conference,
        },
    }
    days_text = _json_days(days, rooms, piece_of)
    return _json_text(data).replace(_json_text(marker), days_text, 1)


def _json_text(value):
    # No indent: it forces Python's slow encoder, and players read it, not people.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _json_days(days, rooms, piece_of):
    """Return the "days" array with each event's piece in place."""
    texts = []
    for index, date, day_start, day_end, day_entries in days:
        head = _json_text(
            {
                "index": index,
                "date": date.isoformat(),
                "day_start": day_start.isoformat(),
                "day_end": day_end.isoformat(),
            }
        )
        by_room = [
            _json_text(name) + b":[" + b",".join(piece_of[id(e)] for e in room_entries) + b"]"
            for name, _room, room_entries in _rooms_of(day_entries, rooms)
        ]
        texts.append(head[:-1] + b',"rooms":{' + b",".join(by_room) + b"}}")
    return b"[" + b",".join(texts) + b"]"


def _track_slug(track):
    return slugify(track).strip("-_") or "track"


def _json_room(room, workshop):
    data = {"name": room.name, "guid": room_guid(room, workshop), "type": "online"}
    slug = slugify(room.name).strip("-_")
    if slug:
        data["slug"] = slug
    if room.public_stream_url:
        data["url"] = room.public_stream_url
    if room.description:
        data["description"] = room.description
    return data


def _json_event(entry):
    """Return an event of the JSON export, serialised."""
    return _json_text(_json_event_data(entry))


def _json_event_data(entry):
    talk = entry.talk
    start = entry.local_start()
    return {
        "guid": entry.guid,
        "id": entry.id,
        "date": start.isoformat(),
        "start": start.strftime("%H:%M"),
        "end": timezone.localtime(entry.slot.end, entry.workshop.tzinfo).isoformat(),
        "duration": duration(entry.slot.duration),
        "room": entry.room_name,
        "slug": entry.slug,
        "url": entry.url,
        "title": entry.title,
        "subtitle": None,
        "track": (talk.track or None) if talk else None,
        "type": entry.type,
        "language": talk.language if talk else "en",
        "abstract": talk.abstract if talk else "",
        "description": talk.description if talk else "",
        "persons": [_json_person(speaker, entry) for speaker in entry.speakers],
        "links": [{"type": kind, "url": url, "title": title} for kind, url, title in entry.links()],
    }


def _json_person(speaker, entry):
    return {
        "name": speaker.name,
        "guid": speaker_guid(speaker, entry.workshop),
        "url": absolute(speaker.get_absolute_url()),
        "avatar": absolute(speaker.photo.url) if speaker.photo else None,
        "biography": speaker.short_bio or None,
    }
