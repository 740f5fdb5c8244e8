"""Every organiser page, admin list and admin page of our own, walked with each role.

``ORGANISER_PAGES`` classifies every URL pattern under /organisers/, ``ADMIN_PAGES`` every admin
URL pattern a ModelAdmin adds beyond Django's own, and ``CHANGELISTS`` every model registered in
the admin: each says which roles (workshop/roles.py) may open it. A new pattern or model in
none of them fails ``test_every_*_is_classified`` with its name. Each is requested as someone
signed out (sent to sign in), as staff without a role and as every role: the roles listed are
served, the others get 403; a superuser is served everything.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import (
    CallFactory,
    OrderFactory,
    OrganiserFactory,
    ProposalFactory,
    SlotFactory,
    SpeakerFactory,
    TalkFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tickets.models import AttendeeMessage, Ticket
from tickets.services.invoices import issue_invoice
from workshop.roles import DOOR_STAFF, FINANCE, ORGANISER, PROGRAMME, REVIEWER, ROLES

pytestmark = pytest.mark.django_db

NO_ROLE = "staff without a role"
SUPERUSER = "superuser"
ACTORS = ("anonymous", NO_ROLE, *ROLES, SUPERUSER)
EVERY_ROLE = frozenset(ROLES)
ATTENDEE = "Quillon Attendee-Marker"


@dataclass(frozen=True)
class Page:
    """How to reach one page, who may, and what they get (the status of a served request)."""

    url: Callable
    allowed: frozenset
    method: str = "get"
    served: int = 200


def roles(*names):
    return frozenset(names)


ORGANISER_PAGES = {
    "organisers/": Page(lambda w: "/organisers/", EVERY_ROLE),
    "organisers/check-in/": Page(
        lambda w: f"/organisers/check-in/?q={w.ticket.code}", roles(DOOR_STAFF, ORGANISER)
    ),
    "organisers/check-in/<str:code>/": Page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/", roles(DOOR_STAFF, ORGANISER)
    ),
    "organisers/check-in/<str:code>/check-in/": Page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/check-in/",
        roles(DOOR_STAFF, ORGANISER),
        method="post",
        served=302,
    ),
    "organisers/check-in/<str:code>/undo/": Page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/undo/",
        roles(DOOR_STAFF, ORGANISER),
        method="post",
        served=302,
    ),
    "organisers/emails/failed/": Page(lambda w: "/organisers/emails/failed/", roles(ORGANISER)),
    "organisers/emails/retry/": Page(
        lambda w: "/organisers/emails/retry/", roles(ORGANISER), method="post", served=302
    ),
    "organisers/messages/": Page(lambda w: "/organisers/messages/", roles(ORGANISER)),
    "organisers/reviews/": Page(lambda w: "/organisers/reviews/", roles(REVIEWER, ORGANISER)),
    "organisers/reviews/<proposal:code>/": Page(
        lambda w: f"/organisers/reviews/{w.proposal.code}/", roles(REVIEWER, ORGANISER)
    ),
    "organisers/messages/new/": Page(lambda w: "/organisers/messages/new/", roles(ORGANISER)),
    # A draft's page leads on to its preview.
    "organisers/messages/<int:pk>/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/", roles(ORGANISER), served=302
    ),
    "organisers/messages/<int:pk>/edit/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/edit/", roles(ORGANISER)
    ),
    "organisers/messages/<int:pk>/preview/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/preview/", roles(ORGANISER)
    ),
    "organisers/messages/<int:pk>/test/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/test/",
        roles(ORGANISER),
        method="post",
        served=302,
    ),
    "organisers/messages/<int:pk>/send/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/send/",
        roles(ORGANISER),
        method="post",
        served=302,
    ),
    "organisers/messages/<int:pk>/retry/": Page(
        lambda w: f"/organisers/messages/{w.message.pk}/retry/",
        roles(ORGANISER),
        method="post",
        served=302,
    ),
}

MONEY = roles(FINANCE, ORGANISER)
PROGRAMME_ONLY = roles(PROGRAMME, ORGANISER)
TALKS = roles(PROGRAMME, REVIEWER, ORGANISER)
# Accounts, sign-in providers and the site stay with superusers.
NOBODY = frozenset()

# Admin pages the project's ModelAdmins add to Django's own.
ADMIN_PAGES = {
    "admin/tickets/order/export/<str:fmt>/": Page(
        lambda w: "/admin/tickets/order/export/xlsx/", MONEY
    ),
    "admin/tickets/ticket/export/<str:fmt>/": Page(
        lambda w: "/admin/tickets/ticket/export/csv/", MONEY
    ),
    "admin/tickets/ticket/badges/": Page(lambda w: "/admin/tickets/ticket/badges/", MONEY),
    "admin/tickets/order/<path:object_id>/refund/": Page(
        lambda w: f"/admin/tickets/order/{w.order.pk}/refund/", MONEY
    ),
    "admin/tickets/order/<path:object_id>/invoice/": Page(
        lambda w: f"/admin/tickets/order/{w.order.pk}/invoice/", MONEY
    ),
    "admin/tickets/order/<path:object_id>/invoice.pdf": Page(
        lambda w: f"/admin/tickets/order/{w.order.pk}/invoice.pdf", MONEY
    ),
    "admin/tickets/order/<path:object_id>/documents/<str:number>/": Page(
        lambda w: f"/admin/tickets/order/{w.order.pk}/documents/{w.order.invoice.number}/", MONEY
    ),
    "admin/tickets/order/<path:object_id>/documents/<str:number>.pdf": Page(
        lambda w: f"/admin/tickets/order/{w.order.pk}/documents/{w.order.invoice.number}.pdf",
        MONEY,
    ),
    "admin/speakers/speaker/export/<str:fmt>/": Page(
        lambda w: "/admin/speakers/speaker/export/csv/", PROGRAMME_ONLY
    ),
    "admin/schedule/talk/export/<str:fmt>/": Page(
        lambda w: "/admin/schedule/talk/export/csv/", TALKS
    ),
    "admin/schedule/slot/check/": Page(lambda w: "/admin/schedule/slot/check/", PROGRAMME_ONLY),
    "admin/auth/user/<id>/password/": Page(
        lambda w: f"/admin/auth/user/{w.users[NO_ROLE].pk}/password/", NOBODY
    ),
}

# Who may open each model's list in the admin.
CHANGELISTS = {
    "auth.Group": NOBODY,
    "auth.User": NOBODY,
    "sites.Site": NOBODY,
    "account.EmailAddress": NOBODY,
    "mfa.Authenticator": NOBODY,
    "socialaccount.SocialApp": NOBODY,
    "socialaccount.SocialAccount": NOBODY,
    "socialaccount.SocialToken": NOBODY,
    # The task queue's rows hold e-mail addresses and arguments: superusers only.
    "django_tasks_database.DBTaskResult": NOBODY,
    "workshop.Workshop": roles(PROGRAMME, FINANCE, ORGANISER),
    "workshop.Page": roles(ORGANISER),
    "speakers.Speaker": PROGRAMME_ONLY,
    "speakers.Invitation": PROGRAMME_ONLY,
    "schedule.Talk": TALKS,
    "schedule.Room": PROGRAMME_ONLY,
    "schedule.Slot": PROGRAMME_ONLY,
    "schedule.Call": PROGRAMME_ONLY,
    "schedule.Proposal": PROGRAMME_ONLY,
    "tickets.TicketType": MONEY,
    "tickets.Voucher": MONEY,
    "tickets.Order": MONEY,
    "tickets.Ticket": MONEY,
    "tickets.Invoice": MONEY,
    "tickets.CreditNote": MONEY,
    "tickets.StripeEvent": MONEY,
    "tickets.WaitingListEntry": MONEY,
    "tickets.AttendeeMessage": roles(ORGANISER),
}

# The actions each role finds on the lists whose actions change or reveal things.
EXPORTS = {"export_selected_csv", "export_selected_xlsx"}
ORDER_ACTIONS = {
    "mark_paid",
    "extend_due_date",
    "record_returned",
    "cancel",
    "refund",
    "resend_confirmation",
    "issue_invoice",
}
WAITING_LIST_ACTIONS = {"send_offer_now", "resend", "remove"}
ACTIONS = {
    "tickets.WaitingListEntry": {FINANCE: WAITING_LIST_ACTIONS, ORGANISER: WAITING_LIST_ACTIONS},
    "tickets.Order": {FINANCE: ORDER_ACTIONS | EXPORTS, ORGANISER: ORDER_ACTIONS | EXPORTS},
    "tickets.Ticket": {
        FINANCE: EXPORTS | {"print_badges"},
        ORGANISER: EXPORTS | {"print_badges", "check_in"},
    },
    "schedule.Slot": {
        PROGRAMME: {"duplicate_slots", "swap_talks", "delete_selected"},
        ORGANISER: {"duplicate_slots", "swap_talks", "delete_selected"},
    },
    "schedule.Talk": {
        PROGRAMME: {"export_selected_csv", "delete_selected"},
        REVIEWER: {"export_selected_csv"},
        ORGANISER: {"export_selected_csv", "delete_selected"},
    },
    # Organisers may also delete a proposal (spam); the programme committee decides only.
    "schedule.Proposal": {
        PROGRAMME: {"accept", "reject"},
        ORGANISER: {"accept", "reject", "delete_selected"},
    },
    "speakers.Speaker": {
        PROGRAMME: {"invite", "export_selected_csv", "delete_selected"},
        ORGANISER: {"invite", "export_selected_csv", "delete_selected"},
    },
    "speakers.Invitation": {
        PROGRAMME: {"resend", "withdraw", "delete_selected"},
        ORGANISER: {"resend", "withdraw", "delete_selected"},
    },
}

# Django's own admin patterns, per model and for the whole site.
DJANGO_MODEL_SUFFIXES = (
    "add/",
    "<path:object_id>/history/",
    "<path:object_id>/delete/",
    "<path:object_id>/change/",
    "<path:object_id>/",
)
DJANGO_SITE_ROUTES = {
    "admin/",
    "admin/login/",
    "admin/logout/",
    "admin/password_change/",
    "admin/password_change/done/",
    "admin/autocomplete/",
    "admin/jsi18n/",
    "admin/r/<path:content_type_id>/<path:object_id>/",
    "admin/(?P<url>.*)$",
}


def resolved():
    """Return (route text, view) of every URL pattern of the project."""
    found = []

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                found.append((route, pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def all_routes():
    return [route for route, _ in resolved()]


def registered_models():
    return sorted(m._meta.label for m in apps.get_models() if admin.site.is_registered(m))


def changelist_route(label):
    app_label, model_name = label.lower().split(".")
    return f"admin/{app_label}/{model_name}/"


def admin_routes_of_our_own():
    """Return the admin routes that are neither Django's site pages nor its model pages."""
    lists = {changelist_route(label) for label in registered_models()}
    own = []
    for route in all_routes():
        if not route.startswith("admin/") or route in DJANGO_SITE_ROUTES or route in lists:
            continue
        if route.startswith("admin/^(?P<app_label>"):
            continue  # the app index
        if any(route == base + suffix for base in lists for suffix in DJANGO_MODEL_SUFFIXES):
            continue
        own.append(route)
    return own


def test_every_organiser_pattern_is_classified():
    routes = {route for route in all_routes() if route.startswith("organisers/")}

    assert sorted(routes - set(ORGANISER_PAGES)) == [], (
        "Add these organiser URL patterns to ORGANISER_PAGES in tests/security/test_roles.py "
        "with the roles that may open them"
    )
    assert sorted(set(ORGANISER_PAGES) - routes) == []


def test_every_admin_page_of_our_own_is_classified():
    routes = set(admin_routes_of_our_own())

    assert sorted(routes - set(ADMIN_PAGES)) == [], (
        "Add these admin URL patterns to ADMIN_PAGES in tests/security/test_roles.py"
    )
    assert sorted(set(ADMIN_PAGES) - routes) == []


def test_every_registered_model_is_classified():
    assert registered_models() == sorted(CHANGELISTS)


def test_every_organiser_view_names_its_permission():
    views = [(route, view) for route, view in resolved() if route.startswith("organisers/")]

    assert [route for route, view in views if not hasattr(view, "organiser_permission")] == []


# -- The world: a paid order, a draft message, a speaker and a talk, and one user per actor ---


@pytest.fixture
def world(workshop, settings):
    settings.STRIPE_SECRET_KEY = ""
    cache.clear()
    w = SimpleNamespace()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular")
    w.order = OrderFactory(
        workshop=workshop,
        buyer_name=ATTENDEE,
        payment_method="invoice",
        invoice_details=f"{ATTENDEE}\n1 Street",
    )
    w.ticket = TicketFactory(order=w.order, ticket_type=ticket_type, attendee_name=ATTENDEE)
    w.order.refresh_from_db()
    issue_invoice(order=w.order)
    w.message = AttendeeMessage.objects.create(workshop=workshop, subject="Hello", body="Dear all")
    SlotFactory(talk=TalkFactory(speakers=[SpeakerFactory(name="Ada Speaker")]))
    w.proposal = ProposalFactory(call=CallFactory(workshop=workshop))
    w.users = {
        "anonymous": None,
        NO_ROLE: OrganiserFactory(username="no-role"),
        SUPERUSER: UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    for role in ROLES:
        w.users[role] = OrganiserFactory(username=role.lower().replace(" ", "-"), role=role)
    return w


def request_as(client, user, page, url):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, page.method)(url)


def expected_status(actor, page):
    if actor == "anonymous":
        return 302
    if actor == SUPERUSER or actor in page.allowed:
        return page.served
    return 403


def problems_walking(client, world, page, *, sign_in_path):
    """Request the page as every actor; return what differs from what each should get."""
    problems = []
    url = page.url(world)
    for actor in ACTORS:
        response = request_as(client, world.users[actor], page, url)
        expected = expected_status(actor, page)
        if response.status_code != expected:
            problems.append(f"{actor}: {response.status_code}, expected {expected}")
        elif actor == "anonymous" and not response["Location"].startswith(sign_in_path):
            problems.append(f"anonymous: sent to {response['Location']}")
        elif expected == 403 and ATTENDEE in response.content.decode(errors="replace"):
            problems.append(f"{actor}: refused, but shown the attendee")
    return problems


@pytest.mark.parametrize("route", sorted(ORGANISER_PAGES))
def test_organiser_page_serves_exactly_its_roles(client, world, route):
    page = ORGANISER_PAGES[route]

    problems = problems_walking(client, world, page, sign_in_path="/accounts/login/?next=")

    assert problems == []


@pytest.mark.parametrize("route", sorted(ORGANISER_PAGES))
def test_organiser_page_is_never_cached(client, world, route):
    page = ORGANISER_PAGES[route]
    refused = request_as(client, world.users[NO_ROLE], page, page.url(world))
    served = request_as(client, world.users[SUPERUSER], page, page.url(world))

    assert (refused.status_code, refused["Cache-Control"]) == (403, "private, no-store")
    assert served["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("route", sorted(ADMIN_PAGES))
def test_admin_page_serves_exactly_its_roles(client, world, route):
    page = ADMIN_PAGES[route]

    assert problems_walking(client, world, page, sign_in_path="/admin/login/?next=") == []


@pytest.mark.parametrize("label", sorted(CHANGELISTS))
def test_admin_list_serves_exactly_its_roles(client, world, label):
    page = Page(lambda w: "/" + changelist_route(label), CHANGELISTS[label])

    assert problems_walking(client, world, page, sign_in_path="/admin/login/?next=") == []


@pytest.mark.parametrize("label", sorted(ACTIONS))
def test_admin_list_offers_each_role_its_actions(client, world, label):
    offered = {}
    for role in ACTIONS[label]:
        client.force_login(world.users[role])
        response = client.get("/" + changelist_route(label))
        choices = response.context["action_form"].fields["action"].choices
        offered[role] = {name for name, _ in choices if name}

    assert offered == ACTIONS[label]


# -- What each role sees on the dashboard and the admin index ---------------------------------

PANELS = {
    DOOR_STAFF: ["check-in"],
    PROGRAMME: ["schedule", "call", "invitations"],
    FINANCE: ["ticket-types", "revenue", "orders-by-day", "pending-invoices", "payments"],
    REVIEWER: [],
    ORGANISER: [
        "check-in",
        "ticket-types",
        "revenue",
        "orders-by-day",
        "pending-invoices",
        "payments",
        "schedule",
        "call",
        "invitations",
        "failed-emails",
    ],
}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_dashboard_shows_each_role_only_its_panels(client, world, role):
    client.force_login(world.users[role])

    html = client.get("/organisers/").content.decode()

    assert re.findall(r'<h2 id="panel-([a-z-]+)">', html) == PANELS[role]


def test_door_staff_dashboard_shows_arrivals_not_attendees_nor_money(client, world):
    client.force_login(world.users[DOOR_STAFF])

    html = client.get("/organisers/").content.decode()

    assert "<strong>0</strong> of 1 valid ticket checked in." in html
    assert ATTENDEE not in html
    assert "EUR" not in html
    assert 'href="/organisers/messages/"' not in html
    assert '<a class="button" href="/organisers/check-in/">Check-in</a>' in html


def test_door_staff_checks_a_ticket_in(client, world):
    client.force_login(world.users[DOOR_STAFF])

    response = client.post(f"/organisers/check-in/{world.ticket.code}/check-in/")

    assert response.status_code == 302
    ticket = Ticket.objects.get(pk=world.ticket.pk)
    assert ticket.checked_in_by == world.users[DOOR_STAFF]


def test_admin_index_links_only_the_pages_of_the_role(client, world):
    client.force_login(world.users[FINANCE])

    html = client.get("/admin/").content.decode()

    assert '<a href="/organisers/">Dashboard</a>' in html
    assert 'href="/organisers/check-in/"' not in html
    assert 'href="/organisers/messages/"' not in html
    assert 'href="/admin/schedule/slot/check/"' not in html


def test_permissions_without_staff_status_open_no_organiser_page(client, world):
    # Staff status is what the second-factor rule applies to; a group alone is not enough.
    user = OrganiserFactory(username="not-staff", role=ORGANISER, is_staff=False)
    client.force_login(user)

    assert client.get("/organisers/").status_code == 403
    assert client.get(f"/organisers/check-in/{world.ticket.code}/").status_code == 403
