"""The organisers' roles: one group of Django permissions each, defined here and only here.

``ROLES`` names each group and its permissions as ``"app_label.codename"`` (``"app_label.*"``
for every permission of an app). ``ensure_roles()`` makes the groups hold exactly these, so
adding a permission to a role is one line below; the data migration and ``manage.py
ensure_roles`` (run by ``make run`` and on every deployment) apply it. Permissions are named as
strings, so workshop imports no other app.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

DOOR_STAFF = "Door staff"
PROGRAMME = "Programme"
FINANCE = "Finance"
REVIEWER = "Reviewer"
ORGANISER = "Organiser"

# Every page under /organisers/ starts with the dashboard; each role may open it.
DASHBOARD = "workshop.view_dashboard"


def manage(*models):
    """Return the add, change, delete and view permissions of each ``app_label.model``."""
    return tuple(
        f"{model.split('.')[0]}.{action}_{model.split('.')[1]}"
        for model in models
        for action in ("add", "change", "delete", "view")
    )


ROLES = {
    # Volunteers at the door: find tickets and check attendees in, nothing else.
    DOOR_STAFF: (DASHBOARD, "tickets.check_in"),
    # The programme committee: talks, speakers, invitations and the schedule.
    PROGRAMME: (
        DASHBOARD,
        *manage("schedule.talk", "schedule.talklink", "schedule.room", "schedule.slot"),
        *manage("speakers.speaker", "speakers.invitation"),
        "speakers.view_speakerrevision",
        "workshop.view_workshop",
        # The call for proposals: set it up, read the proposals and reviews, decide.
        *manage("schedule.call", "schedule.submissiontype", "schedule.track", "schedule.question"),
        "schedule.view_proposal",
        "schedule.view_answer",
        "schedule.view_availability",
        "schedule.view_review",
        "schedule.decide_proposal",
    ),
    # Money: orders (mark paid, cancel, refund), invoices, vouchers, ticket types, waiting lists
    # and the exports of orders and attendees.
    FINANCE: (
        DASHBOARD,
        *manage("tickets.tickettype", "tickets.voucher"),
        "tickets.view_order",
        "tickets.change_order",
        "tickets.view_ticket",
        "tickets.view_invoice",
        "tickets.view_creditnote",
        "tickets.view_orderevent",
        "tickets.view_checkinevent",
        "tickets.view_stripeevent",
        # The waiting lists: see them, send offers, remove people.
        "tickets.view_waitinglistentry",
        "tickets.change_waitinglistentry",
        "tickets.view_dispute",
        "tickets.view_rejectedpayment",
        "workshop.view_workshop",
    ),
    # Reviewers of proposals: score and comment those they did not write. The talks in the
    # admin are the published programme's; proposals' talks stay hidden (anonymised review).
    REVIEWER: (
        DASHBOARD,
        "schedule.view_talk",
        "schedule.view_talklink",
        "schedule.review_proposal",
    ),
    # Everything about the workshop; not accounts and groups, which stay with superusers.
    ORGANISER: ("workshop.*", "speakers.*", "schedule.*", "tickets.*"),
}


def permissions_of(names):
    """Return the Permission rows of ``names``; refuse a name that matches none."""
    chosen = Permission.objects.none()
    for name in names:
        app_label, codename = name.split(".", 1)
        rows = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            rows = rows.filter(codename=codename)
            if not rows.exists():
                raise ImproperlyConfigured(f"No permission {name!r} exists (workshop/roles.py).")
        chosen = chosen | rows
    return chosen


def create_all_permissions():
    """Create every model's permissions now; Django makes them only after all migrations."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)


@transaction.atomic
def ensure_roles(roles=None):
    """Create or update one group per role holding exactly its permissions; return the groups."""
    create_all_permissions()
    groups = []
    for name, names in (roles or ROLES).items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions_of(names))
        groups.append(group)
    return groups
