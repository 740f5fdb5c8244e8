"""Check-in pages for organisers at the door, made for a phone: find, check in, undo.

The QR code on every ticket holds the address of its check-in page, so any phone camera
opens it; the search finds tickets by code, name or e-mail address when there is no code.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tickets.services import checkin
from workshop import ratelimit
from workshop.current import current_workshop
from workshop.organisers import organiser_required

CHECK_IN = "tickets.check_in"
# Generous: a busy door looks up a ticket every few seconds, per device and per organiser.
LOOKUP_RATE = "120/m"
LEVELS = {
    checkin.Result.CHECKED_IN: messages.SUCCESS,
    checkin.Result.UNDONE: messages.SUCCESS,
    checkin.Result.ALREADY: messages.WARNING,
    checkin.Result.NOT_CHECKED_IN: messages.WARNING,
    checkin.Result.REFUSED: messages.ERROR,
}


def limit_lookups(request):
    """Return a 429 response when this device or organiser looks up too many tickets."""
    return ratelimit.limit(
        request, "checkin-lookup", per_ip=LOOKUP_RATE, per_key=LOOKUP_RATE, key=request.user.pk
    )


def with_camera(response):
    # The optional scanner needs the camera of this page only.
    response["Permissions-Policy"] = "camera=(self)"
    return response


def annotate(tickets):
    """Set on each ticket why it is refused ('' when valid) and when it was checked in."""
    for ticket in tickets:
        ticket.refusal = checkin.refusal_reason(ticket)
        ticket.checked_in_text = checkin.describe_check_in(ticket) if ticket.checked_in_at else ""
    return tickets


def page_context(workshop, **extra):
    arrived, valid = checkin.attendance(workshop) if workshop else (0, 0)
    return {"arrived": arrived, "valid": valid, **extra}


@organiser_required(CHECK_IN)
def search(request):
    """Find tickets by code, name or e-mail address; a single exact code opens its ticket."""
    workshop = current_workshop(request)
    query = request.GET.get("q", "").strip()[:200]
    tickets, more = [], False
    if query and workshop is not None:
        limited = limit_lookups(request)
        if limited is not None:
            return limited
        tickets = checkin.find_tickets(workshop=workshop, query=query)
        more = len(tickets) > checkin.SEARCH_LIMIT
        tickets = annotate(tickets[: checkin.SEARCH_LIMIT])
    context = page_context(
        workshop,
        query=query,
        tickets=tickets,
        more=more,
        search_limit=checkin.SEARCH_LIMIT,
        too_short=0 < len(checkin.clean_query(query)) < checkin.MIN_SEARCH_LENGTH,
    )
    return with_camera(render(request, "tickets/checkin.html", context))


@organiser_required(CHECK_IN)
def ticket_page(request, code):
    """Show one ticket, as opened by scanning its QR code; 404 with a clear page if unknown."""
    workshop = current_workshop(request)
    limited = limit_lookups(request)
    if limited is not None:
        return limited
    ticket = checkin.get_ticket(workshop=workshop, code=code) if workshop else None
    if ticket is None:
        context = page_context(workshop, query="", unknown_code=code[:40])
        return with_camera(render(request, "tickets/checkin_unknown.html", context, status=404))
    history = checkin.history(ticket)
    context = page_context(workshop, query="", ticket=annotate([ticket])[0], history=history)
    return with_camera(render(request, "tickets/checkin_ticket.html", context))


def act(request, code, action):
    workshop = current_workshop(request)
    ticket = checkin.get_ticket(workshop=workshop, code=code) if workshop else None
    if ticket is None:
        return ticket_page(request, code)
    outcome = action(ticket=ticket, actor=request.user)
    messages.add_message(request, LEVELS[outcome.result], outcome.message)
    return redirect(reverse("tickets:checkin_ticket", args=[ticket.code]))


@require_POST
@organiser_required(CHECK_IN)
def check_in(request, code):
    """Check the ticket in (POST); a second check-in warns with the time of the first."""
    return act(request, code, checkin.check_in_ticket)


@require_POST
@organiser_required(CHECK_IN)
def undo(request, code):
    """Take back the ticket's check-in (POST)."""
    return act(request, code, checkin.undo_check_in)
