from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tickets import exports, invoice_actions, payments, refund_admin
from tickets.invoices import document_response
from tickets.models import (
    AttendeeMessage,
    CheckInEvent,
    CreditNote,
    Dispute,
    Invoice,
    MessageDelivery,
    Order,
    OrderEvent,
    Refund,
    RejectedPayment,
    StripeEvent,
    Ticket,
    TicketType,
    Voucher,
    random_code,
)
from tickets.services import (
    checkin,
    invoices,
    lifecycle,
    order_links,
    refunds,
    waitlist,
)
from tickets.services import messages as mailing
from tickets.services.errors import OrderError
from workshop.security import private_page
from workshop.spreadsheets import (
    SpreadsheetExportMixin,
    bad_filters_response,
    changelist_queryset,
    export_selected_csv,
    export_selected_xlsx,
    filter_query,
)

# 32 letters and digits to the power 12: about 10^18 codes, far beyond guessing.
VOUCHER_CODE_LENGTH = 12


def warn_if_card_payment_off(request):
    if not payments.card_payment_enabled():
        messages.warning(
            request,
            "Card payment is off: STRIPE_SECRET_KEY is not set. "
            "Free and invoice tickets still sell.",
        )


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "workshop",
        "price",
        "capacity",
        "seats_sold",
        "waiting",
        "visible",
        "invoice_allowed",
        "sale_starts_at",
        "sale_ends_at",
    ]
    list_filter = ["workshop", "visible", "invoice_allowed"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_seats_taken(timezone.now())

    @admin.display(description="seats held")
    def seats_sold(self, ticket_type):
        return ticket_type.seats_taken

    @admin.display(description="waiting")
    def waiting(self, ticket_type):
        if not ticket_type.seats_waiting:
            return 0
        url = reverse("admin:tickets_waitinglistentry_changelist")
        return format_html(
            '<a href="{}?ticket_type__id__exact={}&amp;status__exact=waiting">{}</a>',
            url,
            ticket_type.pk,
            ticket_type.seats_waiting,
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A capacity raised (or a sale opened) frees seats for the people waiting.
        waitlist.seats_freed([obj.pk])

    def changelist_view(self, request, extra_context=None):
        warn_if_card_payment_off(request)
        return super().changelist_view(request, extra_context)


class VoucherForm(forms.ModelForm):
    class Meta:
        model = Voucher
        fields = [
            "workshop", "code", "discount", "value", "ticket_types", "max_uses", "valid_until",
            "note",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        # Voucher.clean() checks the prices, which runs next: with the types chosen now.
        if cleaned.get("ticket_types") is not None:
            self.instance.ticket_types_chosen = list(cleaned["ticket_types"])
        return cleaned


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherForm

    def get_changeform_initial_data(self, request):
        # Codes that unlock hidden tickets or discounts must not be guessable: a long random
        # one by default; organisers may still type a short one for a public promotion.
        return {
            "code": random_code(VOUCHER_CODE_LENGTH),
            **super().get_changeform_initial_data(request),
        }

    list_display = ["code", "workshop", "discount", "value", "max_uses", "valid_until", "note"]
    list_filter = ["workshop", "discount"]
    search_fields = ["code", "note"]
    # Plain checkboxes: a workshop has a handful of ticket types, and the two-box filter widget
    # is drawn by script with names that assistive technology cannot use.
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}


class TicketInline(admin.TabularInline):
    model = Ticket
    extra = 0
    fields = ["code", "ticket_type", "attendee_name", "attendee_email", "price", "checked_in_at"]
    # Check-ins go through the check-in service (refusals, who, the log), as on the ticket page.
    readonly_fields = ["code", "ticket_type", "price", "checked_in_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows kept by the services: shown, never added to or edited here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyLogInline(ReadOnlyInline):
    """A log kept by the services, with who did what."""

    actor_field = "actor"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.actor_field)


class OrderEventInline(ReadOnlyLogInline):
    """The order's history: every status change and payment fact, with when and who."""

    model = OrderEvent
    fields = ["created_at", "from_status", "to_status", "note", "by"]
    readonly_fields = fields
    verbose_name = "history entry"
    verbose_name_plural = "history (status changes and payment facts)"

    @admin.display(description="by")
    def by(self, event):
        return actor_name(event.actor, nobody="buyer" if not event.from_status else "")


def actor_name(user, nobody=""):
    """Name who did something: a person's e-mail address, else what acts without an account."""
    if user is not None:
        return user.email or user.get_username()
    # Without a person it was the buyer without an account, Stripe's webhook or a job.
    return nobody or "Stripe / automatic"


class CheckInEventInline(ReadOnlyLogInline):
    """The ticket's check-in log: check-ins, undos and refusals, with when and who."""

    model = CheckInEvent
    fields = ["created_at", "action", "note", "by"]
    readonly_fields = fields
    verbose_name = "check-in log entry"
    verbose_name_plural = "check-in log"

    @admin.display(description="by")
    def by(self, event):
        return actor_name(event.actor)


class StripeEventInline(admin.TabularInline):
    model = StripeEvent
    extra = 0
    fields = ["received_at", "event_id", "type", "result"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "Stripe events received"

    def has_add_permission(self, request, obj=None):
        return False


class DisputeInline(ReadOnlyInline):
    """The buyer's bank's disputes of the payment, as Stripe reported them."""

    model = Dispute
    fields = ["opened_at", "amount", "currency", "reason", "status", "respond_by", "closed_at"]
    readonly_fields = fields
    verbose_name_plural = "disputes (answer them in the Stripe dashboard)"


class RefundInline(ReadOnlyLogInline):
    """The order's refunds, made here or in Stripe's dashboard, with their status."""

    model = Refund
    fields = [
        "created_at",
        "amount",
        "currency",
        "method",
        "status",
        "origin",
        "reason",
        "tickets_cancelled",
        "stripe_refund_id",
        "failure_reason",
        "by",
    ]
    readonly_fields = fields
    verbose_name_plural = "refunds (use “Refund…” above to make one)"
    actor_field = "created_by"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tickets")

    @admin.display(description="tickets cancelled")
    def tickets_cancelled(self, refund):
        return ", ".join(ticket.code for ticket in refund.tickets.all()) or "—"

    @admin.display(description="by")
    def by(self, refund):
        if refund.origin == Refund.Origin.STRIPE_DASHBOARD:
            return "Stripe dashboard"
        return actor_name(refund.created_by)


class RejectedPaymentInline(ReadOnlyInline):
    """Payments refused for not matching the order, each refunded at once."""

    model = RejectedPayment
    fields = ["created_at", "amount", "currency", "reason", "stripe_refund_id"]
    readonly_fields = fields
    verbose_name_plural = "payments refused and refunded (they did not match the order)"


def run_on_each(modeladmin, request, queryset, action, done):
    """Run a service on each selected order, log each success and report it or the refusal."""
    for order in queryset:
        try:
            action(order=order, actor=request.user)
        except OrderError as error:
            modeladmin.message_user(request, str(error), messages.ERROR)
        else:
            modeladmin.log_change(request, order, f"{done.capitalize()} (admin action).")
            modeladmin.message_user(request, f"Order {order.code} {done}.", messages.SUCCESS)


class MoneyToReturnFilter(admin.SimpleListFilter):
    """Orders whose bank transfer the organisers must still send back."""

    title = "money to return by bank transfer"
    parameter_name = "to_return"

    def lookups(self, request, model_admin):
        return [("yes", "Yes")]

    def queryset(self, request, queryset):
        return queryset.filter(refund_owed__gt=0) if self.value() == "yes" else queryset


@admin.register(Order)
class OrderAdmin(SpreadsheetExportMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "buyer_name",
        "buyer_email",
        "status",
        "payment_method",
        "total",
        "currency",
        "created_at",
    ]
    list_filter = ["status", "payment_method", MoneyToReturnFilter, "workshop", "created_at"]
    search_fields = [
        "code",
        "buyer_name",
        "buyer_email",
        "tickets__code",
        "tickets__attendee_name",
        "tickets__attendee_email",
        "stripe_session_id",
        "stripe_payment_intent_id",
    ]
    date_hierarchy = "created_at"
    inlines = [
        TicketInline,
        RefundInline,
        OrderEventInline,
        DisputeInline,
        RejectedPaymentInline,
        StripeEventInline,
    ]
    actions = [
        invoice_actions.mark_paid,
        invoice_actions.extend_due_date,
        invoice_actions.record_returned,
        "cancel",
        "refund",
        "resend_confirmation",
        "issue_invoice",
        export_selected_csv,
        export_selected_xlsx,
    ]
    export_table = exports.ORDERS
    readonly_fields = [
        "code",
        "workshop",
        "status",
        "payment_method",
        "voucher",
        "subtotal",
        "discount_total",
        "total",
        "refunded_amount",
        "refund_owed",
        "currency",
        "stripe_session_id",
        "stripe_payment_intent_id",
        "reserved_until",
        "payment_due_on",
        "payment_reminder_sent_at",
        "code_of_conduct_accepted_at",
        "paid_at",
        "created_at",
        "updated_at",
        "user",
        "invoice_links",
    ]
    fields = [
        "buyer_name",
        "buyer_email",
        "billing_name",
        "invoice_details",
        "vat_number",
        "po_number",
        *readonly_fields,
    ]

    def has_add_permission(self, request):
        # Orders are made by the shop so that capacity and prices are always checked.
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # The old address may belong to someone who must no longer see the order.
        if change and "buyer_email" in form.changed_data:
            order_links.change_buyer_email(order=obj, actor=request.user)
            obj.refresh_from_db()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        warn_if_card_payment_off(request)
        return super().changelist_view(request, extra_context)

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel(self, request, queryset):
        run_on_each(self, request, queryset, lifecycle.cancel_order, "cancelled")

    @admin.action(
        description="Refund selected card orders in full through Stripe", permissions=["change"]
    )
    def refund(self, request, queryset):
        run_on_each(self, request, queryset, refunds.refund_order, "refunded")

    @admin.action(description="Resend the confirmation e-mail", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        for order in queryset:
            lifecycle.resend_confirmation(order=order)
            self.log_change(request, order, "Confirmation e-mail sent again (admin action).")
        self.message_user(request, f"Sent {queryset.count()} confirmation e-mails.")

    @admin.action(description="Issue invoices for the selected orders", permissions=["change"])
    def issue_invoice(self, request, queryset):
        had = set(Invoice.objects.filter(order__in=queryset).values_list("pk", flat=True))
        for order in queryset:
            invoice = invoices.issue_invoice(order=order)
            if invoice is None:
                self.message_user(
                    request,
                    f"Order {order.code} gets no invoice: only paid orders and invoice orders "
                    "with a price do.",
                    messages.ERROR,
                )
            else:
                if invoice.pk not in had:
                    self.log_change(request, order, f"Invoice {invoice.number} issued.")
                self.message_user(request, f"Order {order.code} has invoice {invoice.number}.")

    @admin.display(description="invoices and credit notes")
    def invoice_links(self, order):
        documents = order.billing_documents()
        if not documents:
            return "None (paid orders and invoice orders with a price get an invoice)"
        return format_html_join(
            mark_safe("<br>"),
            '{} <a href="{}">{}</a> (<a href="{}">PDF</a>){}',
            (
                (
                    document.kind,
                    reverse("admin:tickets_order_document", args=[order.pk, document.number]),
                    document.number,
                    reverse("admin:tickets_order_document_pdf", args=[order.pk, document.number]),
                    credit_note_summary(document),
                )
                for document in documents
            ),
        )

    def get_urls(self):
        page = self.admin_site.admin_view(self.invoice_view)
        refund_page = self.admin_site.admin_view(self.refund_view)
        return [
            path("<path:object_id>/refund/", refund_page, name="tickets_order_refund"),
            path("<path:object_id>/invoice/", page, name="tickets_order_invoice"),
            path(
                "<path:object_id>/invoice.pdf",
                page,
                {"pdf": True},
                name="tickets_order_invoice_pdf",
            ),
            path(
                "<path:object_id>/documents/<str:number>/",
                page,
                name="tickets_order_document",
            ),
            path(
                "<path:object_id>/documents/<str:number>.pdf",
                page,
                {"pdf": True},
                name="tickets_order_document_pdf",
            ),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id):
        return refund_admin.refund_view(self, request, object_id)

    def invoice_view(self, request, object_id, number=None, pdf=False):
        """Show or download an order's invoice or credit note for organisers."""
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        links = {
            "pdf_url": lambda n: reverse("admin:tickets_order_document_pdf", args=[order.pk, n]),
            "back_url": reverse("admin:tickets_order_change", args=[order.pk]),
        }
        respond = private_page(document_response)
        return respond(request, order, number=number, pdf=pdf, links=links)


def credit_note_summary(document):
    """Say what a credit note credits, for the order's admin page; nothing for an invoice."""
    if not isinstance(document, CreditNote):
        return ""
    return format_html(
        ": {} {} of invoice {} ({}; {})",
        document.total,
        document.currency,
        document.invoice.number,
        document.get_settlement_display(),
        document.reason,
    )


@admin.register(Ticket)
class TicketAdmin(SpreadsheetExportMixin, admin.ModelAdmin):
    """Find a ticket by the code in its QR code and check the attendee in."""

    list_display = [
        "code",
        "attendee_name",
        "attendee_email",
        "ticket_type",
        "order_status",
        "checked_in_at",
    ]
    list_filter = ["ticket_type", "order__status", ("checked_in_at", admin.EmptyFieldListFilter)]
    search_fields = ["code", "attendee_name", "attendee_email", "order__code"]
    list_select_related = ["ticket_type", "order"]
    readonly_fields = ["order", "ticket_type", "code", "price", "checked_in_at"]
    fields = ["attendee_name", "attendee_email", *readonly_fields]
    actions = ["check_in", export_selected_csv, export_selected_xlsx, "print_badges"]
    inlines = [CheckInEventInline]
    export_table = exports.ATTENDEES

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="order status")
    def order_status(self, ticket):
        return ticket.order.get_status_display()

    def has_check_in_permission(self, request):
        return request.user.has_perm("tickets.check_in")

    @admin.action(description="Check in the selected tickets", permissions=["check_in"])
    def check_in(self, request, queryset):
        for ticket in queryset:
            outcome = checkin.check_in_ticket(ticket=ticket, actor=request.user)
            if outcome.result is checkin.Result.CHECKED_IN:
                self.log_change(request, ticket, "Checked in (admin action).")
                self.message_user(request, f"{ticket.code} checked in.", messages.SUCCESS)
            elif outcome.result is checkin.Result.ALREADY:
                self.message_user(request, outcome.message, messages.WARNING)
            else:
                self.message_user(request, outcome.message, messages.ERROR)

    @admin.action(description="Print name badges for the selected tickets", permissions=["view"])
    def print_badges(self, request, queryset):
        return exports.badges_response(request, queryset)

    def get_urls(self):
        view = self.admin_site.admin_view(self.badges_view)
        return [path("badges/", view, name="tickets_ticket_badges"), *super().get_urls()]

    def badges_view(self, request):
        """Show printable name badges for the tickets the list shows with this query string."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            tickets = changelist_queryset(self, request)
        except IncorrectLookupParameters:
            return bad_filters_response()
        return exports.badges_response(request, tickets)

    def spreadsheet_links(self, request):
        badges = reverse("admin:tickets_ticket_badges") + filter_query(request)
        return [*super().spreadsheet_links(request), ("Name badges", badges)]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Issued invoices, read only: they are snapshots and are never edited."""

    list_display = ["number", "order", "buyer_name", "total", "currency", "issued_on"]
    list_select_related = ["order"]
    search_fields = ["number", "order__code", "buyer_name", "buyer_email"]
    date_hierarchy = "issued_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditNote)
class CreditNoteAdmin(admin.ModelAdmin):
    """Issued credit notes, read only: each cancels all or part of an invoice and is kept."""

    list_display = ["number", "invoice", "order", "buyer_name", "total", "currency", "issued_on"]
    list_select_related = ["order", "invoice"]
    search_fields = ["number", "invoice__number", "order__code", "buyer_name", "buyer_email"]
    list_filter = ["settlement"]
    date_hierarchy = "issued_on"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "order", "result", "received_at"]
    list_filter = ["type"]
    search_fields = ["event_id", "object_id", "order__code"]
    readonly_fields = ["event_id", "type", "order", "object_id", "payload", "result", "received_at"]

    def has_add_permission(self, request):
        return False


class MessageDeliveryInline(admin.TabularInline):
    model = MessageDelivery
    extra = 0
    fields = ["email", "name", "state", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    can_delete = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("outgoing_email")
        return queryset.defer("outgoing_email__message")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="state")
    def state(self, delivery):
        return delivery.get_state_display()

    @admin.display(description="attempts")
    def attempts(self, delivery):
        return delivery.outgoing_email.attempts if delivery.outgoing_email else ""

    @admin.display(description="sent")
    def sent_at(self, delivery):
        return delivery.outgoing_email.sent_at if delivery.outgoing_email else None

    @admin.display(description="last error")
    def last_error(self, delivery):
        return delivery.outgoing_email.last_error if delivery.outgoing_email else ""


@admin.register(AttendeeMessage)
class AttendeeMessageAdmin(admin.ModelAdmin):
    """Read-only record of the messages sent to attendees; they are written at /organisers/."""

    list_display = ["subject", "workshop", "progress", "created_by", "created_at", "sent_at"]
    list_filter = ["status", "workshop"]
    search_fields = ["subject", "body", "deliveries__email"]
    list_select_related = ["workshop", "created_by"]
    fields = ["workshop", "subject", "body", "ticket_types", "status", "created_by", "sent_at"]
    readonly_fields = fields
    inlines = [MessageDeliveryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_delivery_counts()

    @admin.display(description="delivery")
    def progress(self, message):
        if message.status == AttendeeMessage.Status.DRAFT:
            return message.get_status_display()
        totals = mailing.Totals(
            queued=message.queued_count, sent=message.sent_count, failed=message.failed_count
        )
        return f"{totals.progress.value}: {totals.sent} of {totals.recipients} sent"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Registered in its own module; imported here so that the admin finds it.
from tickets import waitlist_admin  # noqa: E402, F401
