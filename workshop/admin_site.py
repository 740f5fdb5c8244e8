"""The organisers' admin: their content first, in the order they work with it."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from workshop.admin_labels import labelled

# Apps in the order organisers need them; any other app (accounts, tasks, sites) follows,
# alphabetically, as technical matter.
APP_ORDER = ("workshop", "schedule", "speakers", "tickets")
# Within an app, the models organisers edit most come first; models not named here follow.
MODEL_ORDER = {
    "workshop": ("Workshop", "Page"),
    "schedule": ("Talk", "Slot", "Room"),
    "speakers": ("Speaker", "Invitation"),
    "tickets": (
        "TicketType",
        "Voucher",
        "Order",
        "Ticket",
        "WaitingListEntry",
        "AttendeeMessage",
        "Invoice",
        "CreditNote",
        "StripeEvent",
    ),
}


class WorkshopAdminSite(admin.AdminSite):
    site_header = "Workshop administration"
    site_title = "Workshop admin"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does, every admin with its fields named (workshop/admin_labels.py)."""
        super().register(model_or_iterable, labelled(admin_class or admin.ModelAdmin), **options)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        apps.sort(key=lambda app: (_rank(APP_ORDER, app["app_label"]), app["name"]))
        for app in apps:
            order = MODEL_ORDER.get(app["app_label"], ())
            app["models"].sort(
                key=lambda model: (_rank(order, model["object_name"]), model["name"])
            )
        return apps


def _rank(order, name):
    return order.index(name) if name in order else len(order)


class WorkshopAdminConfig(AdminConfig):
    """Django's admin app with this site as ``admin.site`` (INSTALLED_APPS names this class)."""

    default_site = "workshop.admin_site.WorkshopAdminSite"
