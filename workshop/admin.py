from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from workshop.models import Page, Supporter, Workshop
from workshop.security import unlock_sign_in

User = get_user_model()


class SupporterInline(admin.TabularInline):
    model = Supporter
    extra = 0


@admin.register(Workshop)
class WorkshopAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "format", "is_current"]
    list_filter = ["format", "is_current"]
    search_fields = ["title", "tagline", "description"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [SupporterInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "tagline", "description", "keywords", "is_current"]}),
        ("When and where", {"fields": ["starts_at", "ends_at", "time_zone", "format", "venue"]}),
        ("For ticket holders", {"fields": ["joining_details", "ticket_info", "currency"]}),
        ("Contact", {"fields": ["contact_email", "organiser_name", "organiser_address"]}),
        (
            "Invoices",
            {
                "fields": [
                    "tax_rate",
                    "tax_label",
                    "invoice_prefix",
                    "credit_note_prefix",
                    "invoice_note",
                ]
            },
        ),
        (
            "Payment by invoice",
            {
                "fields": [
                    "bank_details",
                    "payment_terms_days",
                    "payment_reminder_days",
                    "payment_grace_days",
                ]
            },
        ),
        (
            "Cancellation by buyers",
            {
                "fields": [
                    "buyer_cancellation_until",
                    "buyer_cancellation_paid",
                    "buyer_cancellation_fee",
                ]
            },
        ),
    ]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "published", "menu_position", "updated_at"]
    list_filter = ["published"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Django's user admin, with a way to lift allauth's lockout after failed sign-ins."""

    actions = ["unlock_sign_in"]

    @admin.action(
        description="Unlock sign-in (after too many wrong passwords)", permissions=["change"]
    )
    def unlock_sign_in(self, request, queryset):
        for user in queryset:
            unlock_sign_in(request, user)
            self.log_change(request, user, "Sign-in unlocked (admin action).")
        self.message_user(request, f"Unlocked sign-in of {queryset.count()} account(s).")
