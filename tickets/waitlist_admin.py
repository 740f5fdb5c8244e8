"""The waiting lists in the admin: who waits for which type, in which place, with which offer.

Entries come from visitors and change only through tickets.services.waitlist: the page shows
them and offers the actions (send an offer now, send the e-mail again, remove).
"""

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, OuterRef, Q, When
from django.urls import reverse
from django.utils.html import format_html

from tickets.models import WaitingListEntry, count_of
from tickets.services import waitlist
from tickets.services.errors import OrderError

Status = WaitingListEntry.Status


def with_positions(queryset):
    """Annotate ``line_position``: 1 for the next in line of each type, None when not waiting."""
    ahead = WaitingListEntry.objects.in_line().filter(
        Q(confirmed_at__lt=OuterRef("confirmed_at"))
        | Q(confirmed_at=OuterRef("confirmed_at"), id__lt=OuterRef("id")),
        ticket_type=OuterRef("ticket_type"),
    )
    return queryset.annotate(
        line_position=Case(
            When(status=Status.WAITING, then=count_of(ahead) + 1),
            default=None,
            output_field=IntegerField(),
        )
    )


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "name",
        "ticket_type",
        "position",
        "status",
        "created_at",
        "offer_sent_at",
        "offer_expires_at",
        "order_link",
    ]
    list_filter = ["status", "ticket_type__workshop", "ticket_type"]
    list_select_related = ["ticket_type", "order"]
    search_fields = ["email", "name"]
    ordering = ["ticket_type", "status", "confirmed_at", "id"]
    actions = ["send_offer_now", "resend", "remove"]
    fields = [
        "ticket_type",
        "email",
        "name",
        "status",
        "position",
        "created_at",
        "confirmed_at",
        "offer_voucher",
        "offer_sent_at",
        "offer_expires_at",
        "order_link",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return with_positions(super().get_queryset(request))

    def has_add_permission(self, request):
        # Visitors join themselves, so that every address on the list has been confirmed.
        return False

    def has_delete_permission(self, request, obj=None):
        # "Remove" keeps the record and ends a running offer properly.
        return False

    @admin.display(description="place in line", ordering="line_position")
    def position(self, entry):
        return entry.line_position

    @admin.display(description="order")
    def order_link(self, entry):
        if entry.order is None:
            return "–"
        url = reverse("admin:tickets_order_change", args=[entry.order.pk])
        return format_html('<a href="{}">{}</a>', url, entry.order.code)

    def run_on_each(self, request, queryset, action, done):
        """Run a waitlist service on each entry; report each success (``done``) or refusal."""
        for entry in queryset:
            try:
                action(entry=entry)
            except OrderError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.log_change(request, entry, f"{done} (admin action).")
                self.message_user(request, f"{done}: {entry.email}.", messages.SUCCESS)

    @admin.action(description="Send an offer now (if a seat is free)", permissions=["change"])
    def send_offer_now(self, request, queryset):
        self.run_on_each(request, queryset, waitlist.offer_now, "Offer sent")

    @admin.action(
        description="Send the confirmation link or the offer again", permissions=["change"]
    )
    def resend(self, request, queryset):
        self.run_on_each(request, queryset, waitlist.resend, "E-mail sent again")

    @admin.action(description="Remove from the waiting list", permissions=["change"])
    def remove(self, request, queryset):
        self.run_on_each(request, queryset, waitlist.remove, "Removed from the waiting list")
