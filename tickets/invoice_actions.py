"""Order admin actions for payment by invoice: record a transfer, extend the due date, and
record money sent back.

Each calls the service in ``tickets/services/invoice_terms.py``, writes the admin log and tells
the organiser what happened to each order, in words.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format

from tickets.money import format_amount
from tickets.services.errors import OrderError
from tickets.services.invoice_terms import (
    Transfer,
    extend_payment_due,
    record_bank_transfer,
    record_transfer_returned,
)


def transfer_message(order, outcome):
    """Return what recording the order's transfer did, and how loudly to say it."""
    if outcome == Transfer.PAID:
        return f"Order {order.code} marked paid.", messages.SUCCESS
    if outcome == Transfer.PAID_LATE:
        return (
            f"Order {order.code} was paid after it expired; its seats were still free, so its "
            f"tickets are valid again (new invoice {order.invoice.number}).",
            messages.SUCCESS,
        )
    owed = format_amount(order.refund_owed, order.currency)
    why = (
        "expired and its seats were sold"
        if order.status == order.Status.EXPIRED
        else "was cancelled"
    )
    return (
        f"Order {order.code} {why}, so its transfer was not accepted: send {owed} back to "
        "the buyer by bank transfer, then use “Record money returned by bank transfer”.",
        messages.WARNING,
    )


LOGGED = {
    Transfer.PAID: "Marked paid (admin action).",
    Transfer.PAID_LATE: "Marked paid after it expired (admin action).",
    Transfer.REFUSED: "Bank transfer refused, to return (admin action).",
}


@admin.action(description="Mark selected invoice orders paid", permissions=["change"])
def mark_paid(modeladmin, request, queryset):
    for order in queryset:
        try:
            outcome = record_bank_transfer(order=order, actor=request.user)
        except OrderError as error:
            modeladmin.message_user(request, str(error), messages.ERROR)
            continue
        order.refresh_from_db()
        text, level = transfer_message(order, outcome)
        modeladmin.log_change(request, order, LOGGED[outcome])
        modeladmin.message_user(request, text, level)


@admin.action(description="Record money returned by bank transfer", permissions=["change"])
def record_returned(modeladmin, request, queryset):
    for order in queryset:
        owed = format_amount(order.refund_owed, order.currency)
        try:
            record_transfer_returned(order=order, actor=request.user)
        except OrderError as error:
            modeladmin.message_user(request, str(error), messages.ERROR)
            continue
        modeladmin.log_change(request, order, f"{owed} returned by bank transfer.")
        modeladmin.message_user(request, f"Order {order.code}: {owed} returned.", messages.SUCCESS)


class DueDateForm(forms.Form):
    due_on = forms.DateField(
        label="New due date",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The buyer is reminded again before it.",
    )

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise forms.ValidationError("Choose a day that has not passed.")
        return due_on


@admin.action(description="Extend the payment due date", permissions=["change"])
def extend_due_date(modeladmin, request, queryset):
    """Ask for the new due date (a confirmation page), then move each order's."""
    form = DueDateForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        due_on = form.cleaned_data["due_on"]
        for order in queryset:
            try:
                extend_payment_due(order=order, due_on=due_on, actor=request.user)
            except OrderError as error:
                modeladmin.message_user(request, str(error), messages.ERROR)
                continue
            shown = date_format(due_on, "j F Y")
            modeladmin.log_change(request, order, f"Payment due date moved to {shown}.")
            modeladmin.message_user(request, f"Order {order.code} is now due on {shown}.")
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Extend the payment due date",
        "orders": queryset.select_related("workshop"),
        "form": form,
        "opts": modeladmin.model._meta,
        "action": "extend_due_date",
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/tickets/order/extend_due_date.html", context)
