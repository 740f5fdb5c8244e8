"""The order admin's refund page: choose what to refund, see what will happen, confirm.

Linked from the order's admin page ("Refund…"). The first step shows a form (the whole order,
chosen tickets, or an amount, and why); the second shows the plan, from
``refunds.plan_refund``, and the confirmation carries the plan's version, so that a refund made
by someone else in between is noticed rather than added to. The decision is
``refunds.refund``'s, under the order's lock.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from tickets.models import Order, Refund
from tickets.money import format_amount
from tickets.services import refunds
from tickets.services.refunds import Kind, RefundRefused


class RefundForm(forms.Form):
    kind = forms.ChoiceField(
        label="What to refund",
        choices=[
            (Kind.ORDER, "The whole order: every valid ticket and all that is left of the money"),
            (Kind.TICKETS, "Chosen tickets, at the prices paid: they no longer admit anyone"),
            (Kind.AMOUNT, "An amount: the tickets stay valid"),
        ],
        widget=forms.RadioSelect,
        initial=Kind.ORDER,
    )
    tickets = forms.MultipleChoiceField(
        label="Tickets to refund",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only for “Chosen tickets”.",
    )
    amount = forms.CharField(
        label="Amount",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
        help_text="Only for “An amount”.",
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Kept with the refund and written on the credit note.",
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tickets"].choices = [
            (
                str(ticket.pk),
                f"{ticket.code}: {ticket.ticket_type.name} for {ticket.attendee_name} "
                f"({format_amount(ticket.price, order.currency)})",
            )
            for ticket in refunds.valid_tickets(order)
        ]
        self.fields["amount"].label = f"Amount ({order.currency})"


def refund_view(modeladmin, request, object_id):
    """Show the refund form, then the plan, then refund on confirmation."""
    order = modeladmin.get_object(request, object_id)
    if order is None:
        raise Http404("No such order.")
    if not modeladmin.has_change_permission(request, order):
        raise PermissionDenied
    step = request.POST.get("step") if request.method == "POST" else None
    form = RefundForm(request.POST if step else None, order=order)
    if step and not form.is_valid():
        return render(modeladmin, request, order, form, status=400)
    if step:
        data = form.cleaned_data
        choice = {
            "kind": Kind(data["kind"]),
            "ticket_ids": data["tickets"],
            "amount": data["amount"] or None,
        }
        if step == "confirm":
            return confirm(modeladmin, request, order, form, choice)
        try:
            plan = refunds.plan_refund(order, **choice)
        except RefundRefused as error:
            return render(modeladmin, request, order, form, refused=str(error), status=409)
        return render(modeladmin, request, order, form, plan=plan)
    return render(modeladmin, request, order, form)


def confirm(modeladmin, request, order, form, choice):
    try:
        row = refunds.refund(
            order=order,
            reason=form.cleaned_data["reason"],
            version=request.POST.get("version", ""),
            actor=request.user,
            **choice,
        )
    except RefundRefused as error:
        order.refresh_from_db()
        return render(modeladmin, request, order, form, refused=str(error), status=409)
    amount = format_amount(row.amount, row.currency)
    modeladmin.log_change(request, order, f"Refunded {amount}: {row.reason}")
    text, level = outcome_message(order, row, amount)
    modeladmin.message_user(request, text, level)
    return HttpResponseRedirect(reverse("admin:tickets_order_change", args=[order.pk]))


def outcome_message(order, row, amount):
    if row.method == Refund.Method.BANK_TRANSFER:
        return f"Refund of {amount} by bank transfer recorded for order {order.code}.", (
            messages.SUCCESS
        )
    if row.status == Refund.Status.FAILED:
        return (
            f"Stripe refused the refund of {amount} for order {order.code}: "
            f"{row.failure_reason}. The money is still owed; the tickets stay cancelled.",
            messages.ERROR,
        )
    if row.status == Refund.Status.SUCCEEDED:
        return f"{amount} refunded to the card of order {order.code}.", messages.SUCCESS
    if row.stripe_refund_id:
        return (
            f"Refund of {amount} for order {order.code} is pending at Stripe; its outcome "
            "will be recorded when Stripe tells of it.",
            messages.WARNING,
        )
    return (
        f"Refund of {amount} for order {order.code} is recorded, but Stripe could not be "
        "reached: it is sent again automatically.",
        messages.WARNING,
    )


def render(modeladmin, request, order, form, *, plan=None, refused="", status=200):
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Refund order {order.code}",
        "opts": opts,
        "order": order,
        "form": form,
        "plan": plan,
        "refused": refused,
        "refundable": refunds.refundable(order),
        "card": order.payment_method == Order.Method.STRIPE,
        "change_url": reverse("admin:tickets_order_change", args=[order.pk]),
    }
    return TemplateResponse(request, "admin/tickets/order/refund.html", context, status=status)
