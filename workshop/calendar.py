"""The workshop as one calendar event: /workshop.ics and the file attached to ticket e-mails."""

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from icalendar import Calendar, Event


def workshop_ics(workshop):
    """Return the workshop as an iCalendar file with one event (bytes)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Workshop site//workshop//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", workshop.title)
    event = Event()
    # The same UID wherever the file comes from, so calendars keep one entry.
    event.add("uid", f"{workshop.slug}@{urlsplit(settings.SITE_URL).netloc}")
    event.add("dtstamp", dt.datetime.now(dt.UTC).replace(microsecond=0))
    event.add("dtstart", workshop.starts_at)
    event.add("dtend", workshop.ends_at)
    event.add("summary", workshop.title)
    event.add("url", settings.SITE_URL + "/")
    if workshop.tagline:
        event.add("description", workshop.tagline)
    calendar.add_component(event)
    return calendar.to_ical()
