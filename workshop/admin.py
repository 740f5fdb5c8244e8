from django.contrib import admin

from workshop.models import Page, Supporter, Workshop


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
    ]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "published", "menu_position", "updated_at"]
    list_filter = ["published"]
    search_fields = ["title", "slug", "body"]
    prepopulated_fields = {"slug": ["title"]}
