import logging
from functools import wraps

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import OperationalError
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets import payments
from tickets.forms import AttendeeForm, CheckoutForm, ResendLinksForm
from tickets.joining import joining_for
from tickets.models import Order, Ticket, TicketType
from tickets.money import format_amount
from tickets.qr import checkin_url, qr_svg
from tickets.services import buyer_cancellation, lifecycle, pricing, stripe_checkout, stripe_events
from tickets.services.errors import Busy, OrderError, PaymentUnavailable, TooManyUnpaidSeats
from workshop import ratelimit
from workshop.cache import CONTENT, TICKETS, cache_public_page
from workshop.current import current_workshop
from workshop.ratelimit import rate_limited
from workshop.security import private_page
from workshop.views import coming_soon

logger = logging.getLogger(__name__)

# How often the order page may ask Stripe about one order's Checkout Session.
STRIPE_REFRESH_SECONDS = 5
# Voucher codes tried from one client: enough for a buyer's typos, too few to guess codes.
VOUCHER_TRIES = "20/10m"


# Orders bump the tickets version, so "N left" is exact; the short lifetime bounds what changes
# with the clock alone (reservations running out, a sale window opening or closing).
@cache_public_page(scopes=(CONTENT, TICKETS), timeout=5)
def ticket_list(request):
    """List the ticket types with what is left, and let the buyer choose quantities."""
    workshop = current_workshop(request)
    if workshop is None:
        return coming_soon(request, "Tickets", "Ticket sales open here soon.")
    voucher_code = request.GET.get("voucher", "").strip()
    voucher = None
    if voucher_code and (limited := limit_voucher_tries(request)):
        return limited
    if voucher_code:
        try:
            voucher = pricing.find_voucher(workshop=workshop, code=voucher_code)
        except OrderError as error:
            messages.error(request, str(error))
    unlocked = [t.id for t in voucher.ticket_types.all()] if voucher else []
    now = timezone.now()
    ended = workshop.has_ended(now)
    ticket_types = list(
        TicketType.objects.listed(workshop=workshop, unlocked_ids=unlocked).with_seats_taken(now)
    )
    for ticket_type in ticket_types:
        ticket_type.on_sale = not ended and ticket_type.is_on_sale(now)
        ticket_type.not_started = ticket_type.sales_not_started(now)
        left = ticket_type.seats_left
        ticket_type.max_choice = min(
            ticket_type.max_per_order, ticket_type.max_per_order if left is None else left
        )
    context = {
        "ticket_types": ticket_types,
        "voucher": voucher,
        "voucher_code": voucher.code if voucher else "",
        "any_on_sale": any(t.on_sale and t.max_choice > 0 for t in ticket_types),
        "sales_closed": pricing.sales_closed_message(workshop) if ended else "",
    }
    return render(request, "tickets/ticket_list.html", context)


def limit_voucher_tries(request):
    """Return a 429 page when this client has tried too many voucher codes, valid or not."""
    # Every code counts, so the limit says nothing about which codes exist.
    return ratelimit.limit(request, "voucher-check", per_ip=VOUCHER_TRIES)


def chosen_counts(data):
    return {
        key.removeprefix("qty_"): value
        for key, value in data.items()
        if key.startswith("qty_") and key.removeprefix("qty_").isdigit() and value not in ("", "0")
    }


def offered_methods(quote):
    if quote.total == 0:
        return [(Order.Method.FREE, "None: the tickets are free")]
    methods = []
    if payments.card_payment_enabled():
        methods.append((Order.Method.STRIPE, card_label()))
    if quote.invoice_allowed:
        methods.append((Order.Method.INVOICE, "Invoice / bank transfer"))
    return methods


def card_label():
    if payments.uses_standin():
        return "Card (local test payment page: no money moves)"
    return "Card (secure payment page by Stripe)"


# The button says what happens next, so nobody expects a card form that is not coming.
SUBMIT_LABELS = {
    (Order.Method.FREE,): "Get my tickets",
    (Order.Method.STRIPE,): "Order and pay by card",
    (Order.Method.INVOICE,): "Order and get the invoice",
}


def payment_context(methods):
    """Return what the checkout page says about payment: the methods and the button."""
    values = tuple(value for value, _ in methods)
    return {
        "methods": methods,
        "card_payment": Order.Method.STRIPE in values,
        "submit_label": SUBMIT_LABELS.get(values, "Order and pay"),
    }


def checkout(request):
    """Ask for the buyer, attendees and payment, then create the order and go to payment."""
    workshop = current_workshop(request)
    if workshop is None:
        raise Http404("No workshop.")
    data = request.POST if request.method == "POST" else request.GET
    counts, voucher_code = chosen_counts(data), data.get("voucher", "").strip()
    if voucher_code and (limited := limit_voucher_tries(request)):
        return limited
    back = reverse("tickets:ticket_list") + (f"?voucher={voucher_code}" if voucher_code else "")
    try:
        quote = pricing.quote_order(
            workshop=workshop, ticket_counts=counts, voucher_code=voucher_code
        )
    except OrderError as error:
        messages.error(request, str(error))
        return redirect(back)
    methods = offered_methods(quote)
    user = request.user if request.user.is_authenticated else None
    initial = {"buyer_email": user.email} if user else {}
    form = CheckoutForm(
        request.POST if request.method == "POST" else None,
        quantity=quote.quantity,
        methods=methods,
        initial=initial,
    )
    context = {"quote": quote, "form": form, "counts": counts, "voucher_code": voucher_code}
    context.update(payment_context(methods))
    if request.method != "POST" or not form.is_valid():
        context["no_method"] = not methods
        return render(request, "tickets/checkout.html", context)
    return place_order(request, workshop, form, context)


def place_order(request, workshop, form, context):
    # Each order holds seats for a while: stop one address or client from hoarding them.
    email = form.cleaned_data["buyer_email"]
    limited = ratelimit.limit(request, "order-create", per_ip="60/h", per_key="10/h", key=email)
    if limited is not None:
        return limited
    try:
        order = lifecycle.create_order(
            workshop=workshop,
            ticket_counts=context["counts"],
            buyer=form.buyer(),
            attendees=form.attendees(),
            voucher_code=context["voucher_code"],
            payment_method=form.chosen_payment_method(),
            user=request.user,
            invoice_details=form.cleaned_data.get("invoice_details", ""),
            billing=form.billing(),
            client_address=ratelimit.client_ip(request),
        )
    except Busy as error:
        return render(request, "tickets/busy.html", {"message": str(error)}, status=503)
    except TooManyUnpaidSeats as error:
        # 429: a limit on what one buyer may hold, not a conflict with the ticket choice.
        form.add_error(None, str(error))
        return render(request, "tickets/checkout.html", context, status=429)
    except OrderError as error:
        form.add_error(None, str(error))
        return render(request, "tickets/checkout.html", context, status=409)
    if order.payment_method != Order.Method.STRIPE:
        return redirect(order)
    try:
        return redirect(stripe_checkout.start_checkout(order=order))
    except PaymentUnavailable as error:
        form.add_error(None, str(error))
        return render(request, "tickets/checkout.html", context, status=503)
    except OrderError as error:
        form.add_error(None, str(error))
        return render(request, "tickets/checkout.html", context, status=409)


def secret_link(view):
    """Give the view the order whose secret link was followed; any other address is not found.

    Every page reached by an order's code and secret uses it: the NUL guard and the
    constant-time comparison are in ``OrderQuerySet.by_secret``, and ``private_page`` keeps the
    answer out of caches and Referer headers.
    """

    @private_page
    @wraps(view)
    def wrapper(request, code, secret, **kwargs):
        order = Order.objects.select_related("workshop").by_secret(code, secret)
        if order is None:
            raise Http404("No such order.")
        return view(request, order, **kwargs)

    return wrapper


@secret_link
def order_detail(request, order):
    """Show an order to whoever holds its secret link; correct attendees until the cut-off."""
    if request.method == "POST":
        return correct_attendee(request, order)
    if request.GET.get("session_id") and order.status == Order.Status.PENDING:
        refresh_from_stripe(order)
    prefetch_related_objects([order], "invoices", "credit_notes__invoice", "refunds")
    tickets = list(order.tickets.select_related("ticket_type"))
    edit_open = lifecycle.attendee_edit_open(order)
    for ticket in tickets:
        if ticket.refund_id is not None:
            continue
        if order.is_paid:
            ticket.qr = qr_svg(checkin_url(ticket.code), label=f"QR code of ticket {ticket.code}")
        if edit_open:
            ticket.form = AttendeeForm(
                prefix=f"t{ticket.id}",
                initial={"name": ticket.attendee_name, "email": ticket.attendee_email},
            )
    context = {
        "order": order,
        "tickets": tickets,
        "edit_open": edit_open,
        "holds_seats": order.holds_seats(),
        "joining": joining_for(order),
        "cancelled": "cancelled" in request.GET,
        "invoice": order.invoice,
        "documents": order.billing_documents(),
        "cancellation": buyer_cancellation.cancellation_terms(order),
    }
    return render(request, "tickets/order_detail.html", context)


def cancelled_message(order):
    if order.refund_owed:
        owed = format_amount(order.refund_owed, order.currency)
        return (
            f"Order {order.code} is cancelled; the organisers send {owed} back to you by bank "
            "transfer. We have sent you an e-mail."
        )
    if order.status != Order.Status.REFUNDED:
        return f"Order {order.code} is cancelled. We have sent you an e-mail."
    refunded = format_amount(order.refunded_amount, order.currency)
    return (
        f"Order {order.code} is cancelled and {refunded} is refunded to your card. "
        "We have sent you an e-mail."
    )


@secret_link
def cancel_order(request, order):
    """Say what cancelling the order would do, and cancel it when the buyer confirms."""
    terms = buyer_cancellation.cancellation_terms(order)
    if request.method == "POST":
        try:
            order = buyer_cancellation.cancel_by_buyer(
                order=order,
                version=request.POST.get("version", ""),
                actor=request.user if request.user.is_authenticated else None,
            )
        except buyer_cancellation.CancellationRefused as error:
            order.refresh_from_db()
            terms = buyer_cancellation.cancellation_terms(order)
            return render_cancel(request, order, terms, refused=str(error), refusal=error.refusal)
        except OrderError as error:  # Stripe could not close the payment page
            return render_cancel(request, order, terms, refused=str(error), status=503)
        messages.success(request, cancelled_message(order))
        return redirect(order)
    return render_cancel(request, order, terms, refusal=terms.refusal)


def render_cancel(request, order, terms, *, refused="", refusal=None, status=None):
    if status is None and refusal is not None:
        status = 403 if refusal in buyer_cancellation.FORBIDDEN else 409
    context = {"order": order, "terms": terms, "refused": refused}
    return render(request, "tickets/order_cancel.html", context, status=status or 200)


def refresh_from_stripe(order):
    """Fulfil at once on return from Stripe; the webhook does it anyway if this fails.

    Stripe is asked at most once per order every STRIPE_REFRESH_SECONDS, whoever reloads the
    page on whichever worker (the cache is shared), so nobody can spend the shop's Stripe rate
    limit by reloading.
    """
    if not order.stripe_session_id:
        return
    if not cache.add(f"tickets:stripe-refresh:{order.code}", True, STRIPE_REFRESH_SECONDS):
        return
    try:
        stripe_checkout.fulfil_checkout_session(session_id=order.stripe_session_id)
    except (stripe.StripeError, OperationalError, OrderError) as error:
        logger.warning("Could not fulfil %s on return from Stripe: %s", order.code, error)
    order.refresh_from_db()


def correct_attendee(request, order):
    ticket_id = request.POST.get("ticket", "")
    ticket = order.tickets.filter(id=ticket_id).first() if ticket_id.isdecimal() else None
    if ticket is None:
        raise Http404("No such ticket.")
    form = AttendeeForm(request.POST, prefix=f"t{ticket.id}")
    if not form.is_valid():
        messages.error(request, "Please give a name and a valid e-mail address.")
        return redirect(order)
    try:
        lifecycle.update_attendee(
            ticket=ticket, name=form.cleaned_data["name"], email=form.cleaned_data["email"]
        )
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Ticket {ticket.code} updated.")
    return redirect(order)


@login_required
def my_tickets(request):
    """List the signed-in buyer's orders: placed signed in, or claimed from their address."""
    orders = (
        Order.objects.of_user(request.user)
        .select_related("workshop")
        .prefetch_related(
            "invoices",
            "credit_notes",
            Prefetch("tickets", queryset=Ticket.objects.select_related("ticket_type")),
        )
        .order_by("-created_at")
    )
    response = render(request, "tickets/my_tickets.html", {"orders": orders})
    response["Cache-Control"] = "private, no-store"
    return response


@rate_limited("resend-link", per_ip="10/h", per_key="3/h", key=lambda r: r.POST.get("email"))
def resend_links(request):
    """E-mail a buyer their order links; the answer is the same whether or not there are any."""
    form = ResendLinksForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lifecycle.send_order_links(email=form.cleaned_data["email"])
        messages.success(
            request,
            "If there are orders for that address, we have sent their links to it.",
        )
        return redirect("tickets:resend_links")
    return render(request, "tickets/resend_links.html", {"form": form})


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Receive Stripe's signed events; 400 for bad ones, 503 to have Stripe retry later."""
    if not settings_ready():
        return HttpResponse("Stripe webhooks are not configured.", status=503)
    signature = request.headers.get("Stripe-Signature", "")
    body = read_limited_body(request, settings.STRIPE_WEBHOOK_MAX_BYTES)
    if body is None:
        return HttpResponse("Payload too large.", status=413, content_type="text/plain")
    try:
        payments.verify_signature(body, signature)
        payload = stripe_events.parse_event(body)
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("Bad signature.")
    except stripe_events.MalformedEvent as error:
        return HttpResponseBadRequest(str(error))
    except ValueError:
        return HttpResponseBadRequest("Malformed payload.")
    try:
        result = stripe_events.handle_stripe_event(payload=payload)
    except (stripe.StripeError, OperationalError) as error:
        logger.warning("Stripe event could not be processed now: %s", error)
        return HttpResponse("Try again later.", status=503)
    return HttpResponse(str(result), content_type="text/plain")


def read_limited_body(request, limit):
    """Return the request body, or None when it is over ``limit`` bytes.

    The declared length is checked first; a body without one (chunked) is read only up to
    one byte past the limit, so an endless body cannot fill the memory.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def settings_ready():
    return bool(settings.STRIPE_WEBHOOK_SECRET and settings.STRIPE_SECRET_KEY)
