"""The public pages of the waiting list: join a sold-out type, confirm the address, see an offer."""

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from tickets.forms import WaitingListForm
from tickets.models import TicketType
from tickets.services import waitlist
from tickets.services.errors import Busy, OrderError
from workshop.current import current_workshop
from workshop.ratelimit import rate_limited
from workshop.security import private_page

# Like the other public forms that send e-mail: enough for typos, too few to flood an inbox.
JOIN_RATE = {"per_ip": "10/h", "per_key": "3/h"}
JOINED_MESSAGES = {
    waitlist.Joined.JOINED: "Almost there: we have sent a link to {email}. Follow it to take "
    "your place in line.",
    waitlist.Joined.CONFIRMATION_RESENT: "{email} is already on this waiting list but not "
    "confirmed yet: we have sent the confirmation link again.",
    waitlist.Joined.ALREADY_WAITING: "{email} is already on this waiting list. We will e-mail "
    "it when a seat frees up.",
    waitlist.Joined.ALREADY_OFFERED: "{email} is already on this waiting list and a seat is "
    "being held for it: see the offer we e-mailed.",
}


def listed_type(request, type_id):
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("No workshop.")
    return get_object_or_404(TicketType.objects.listed(workshop=workshop), pk=type_id)


@rate_limited("waitlist-join", **JOIN_RATE, key=lambda request: request.POST.get("email"))
def join(request, type_id):
    """Ask for an address to put on a sold-out type's waiting list."""
    ticket_type = listed_type(request, type_id)
    form = WaitingListForm(request.POST or None)
    context = {"ticket_type": ticket_type, "form": form}
    if request.method != "POST" or not form.is_valid():
        return render(request, "tickets/waitlist_join.html", context)
    try:
        _, joined = waitlist.join(
            ticket_type=ticket_type,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
        )
    except Busy as error:
        return render(request, "tickets/busy.html", {"message": str(error)}, status=503)
    except OrderError as error:
        form.add_error(None, str(error))
        return render(request, "tickets/waitlist_join.html", context, status=409)
    message = JOINED_MESSAGES[joined].format(email=form.cleaned_data["email"])
    context = {**context, "joined": joined, "message": message}
    return render(request, "tickets/waitlist_joined.html", context)


@rate_limited("waitlist-confirm", per_ip="60/h")
def confirm(request, token):
    """Show a confirmation link's entry; confirm it with the button (link checkers only GET)."""
    response = confirm_page(request, token)
    response["Cache-Control"] = "private, no-store"
    # Never sent to other sites; not "no-referrer" (private_page), with which browsers post
    # the form with "Origin: null", which the CSRF check rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


def confirm_page(request, token):
    try:
        entry = waitlist.entry_to_confirm(token)
    except waitlist.LinkExpired as error:
        return render(request, "tickets/waitlist_gone.html", {"message": str(error)}, status=410)
    except waitlist.BadLink as error:
        return render(request, "tickets/waitlist_gone.html", {"message": str(error)}, status=404)
    if request.method == "POST":
        entry = waitlist.confirm(entry=entry)
    context = {"entry": entry, "position": waitlist.position(entry), "Status": entry.Status}
    return render(request, "tickets/waitlist_confirm.html", context)


@private_page
def offer(request, token):
    """Show a waiting-list offer: the seat held and the way to buy it, or why it has ended."""
    try:
        entry = waitlist.entry_of_offer(token)
    except waitlist.BadLink as error:
        return render(request, "tickets/waitlist_gone.html", {"message": str(error)}, status=404)
    if entry.offer_voucher_id is None:
        raise Http404("No offer was made to this entry.")
    if problem := waitlist.offer_problem(entry, timezone.now()):
        context = {"message": problem, "heading": "This offer cannot be used"}
        return render(request, "tickets/waitlist_gone.html", context, status=410)
    tzinfo = entry.ticket_type.workshop.tzinfo
    context = {
        "entry": entry,
        "voucher_code": entry.offer_voucher.code,
        "expires_at": timezone.localtime(entry.offer_expires_at, tzinfo),
    }
    return render(request, "tickets/waitlist_offer.html", context)
