"""Every URL pattern of the project is either public or proven private, actor by actor.

The sweep walks the project's URL patterns (namespaces included; the admin's own patterns
have their own tests and are left out, /organisers/ is in). Each pattern must be listed in
PUBLIC or in PRIVATE; a new pattern in neither fails ``test_every_pattern_is_classified``
with its name. Each PRIVATE entry says how to build the owner's URL and is requested as
anonymous, another attendee, another speaker and a signed-in non-staff user: each must be
refused (a redirect to sign in, 403, 404 or 405), never shown the owner's data, never a 500.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from allauth.mfa.models import Authenticator
from django.core.cache import cache
from django.urls import URLPattern, URLResolver, get_resolver

from speakers import services as speaker_services
from tests.factories import (
    OrderFactory,
    ProposalFactory,
    SpeakerFactory,
    TalkFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
)
from tests.security.conftest import verified_user
from tickets.models import AttendeeMessage
from tickets.services import order_links
from tickets.services.invoices import issue_invoice

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "another attendee", "another speaker", "non-staff user")

# Patterns anyone may open: they show public content, or forms whose answers depend only
# on what the visitor sends (sign-in, sign-up, password reset by e-mailed key, checkout).
PUBLIC = {
    # workshop
    "",
    "workshop.ics",
    "favicon.ico",
    "robots.txt",
    "sitemap.xml",
    "<slug:slug>/",
    # speakers
    "speakers/",
    "speaker/",
    "speakers/<slug:slug>/",
    "speakers/<slug:slug>.ics",
    # schedule
    "talks/",
    "talks/<slug:slug>/",
    "talks/<slug:slug>.ics",
    "schedule/",
    "schedule.ics",
    "schedule.xml",
    "schedule.json",
    "schedule/export/schedule.ics",
    "schedule/export/schedule.xml",
    "schedule/export/schedule.json",
    "call/",
    # tickets: choosing, buying, lost links (answers the same whether or not there are orders)
    "tickets/",
    "tickets/checkout/",
    "tickets/resend/",
    # the waiting list: a form, and its confirmation and offer, keyed by signed e-mailed links
    # that show only the address they were sent to (tests/tickets/test_waitlist.py refuses
    # altered links)
    "tickets/waiting-list/<int:type_id>/",
    "tickets/waiting-list/confirm/<str:token>/",
    "tickets/waiting-list/offer/<str:token>/",
    # signed by Stripe; tests/tickets/test_stripe.py refuses unsigned and forged events
    "tickets/stripe/webhook/",
    # allauth: signing in, up and out, and flows keyed by an e-mailed secret or the session
    "accounts/login/",
    "accounts/logout/",
    "accounts/inactive/",
    "accounts/signup/",
    "accounts/confirm-email/",
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$",
    "accounts/password/reset/",
    "accounts/password/reset/done/",
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
    "accounts/password/reset/key/done/",
    "accounts/login/code/confirm/",
    "accounts/2fa/authenticate/",
    "accounts/3rdparty/login/cancelled/",
    "accounts/3rdparty/login/error/",
    "accounts/3rdparty/signup/",
    "accounts/social/login/cancelled/",
    "accounts/social/login/error/",
    "accounts/social/signup/",
    "accounts/social/connections/",
    "accounts/orcid/login/",
    "accounts/orcid/login/callback/",
    "accounts/github/login/",
    "accounts/github/login/callback/",
}


@dataclass(frozen=True)
class Private:
    """How to reach one private pattern and what its owner's data looks like.

    ``url`` builds the owner's address from the world; ``guess`` builds the address another
    actor would try for pages reached by a secret link (their own secret, or none, with the
    owner's code). ``self_scoped`` pages show each signed-in person their own data, so other
    signed-in actors may get a page, just never the owner's data. ``owner_status`` is what the
    owner gets (None: not requested, for actions that change something).
    """

    owner: str
    url: Callable
    guess: Callable | None = None
    method: str = "get"
    self_scoped: bool = False
    owner_status: int | None = 200
    owner_sees_marker: bool = True


def account_page(path, **kwargs):
    """A page of the signed-in person's own account."""
    return Private(owner="attendee", url=lambda w: path, self_scoped=True, **kwargs)


def staff_page(url, **kwargs):
    return Private(owner="staff", url=url, **kwargs)


def wrong_secret(route):
    """Return a guess for a secret link: the owner's code with the actor's own secret."""
    return lambda w, actor: route.format(code=w.order.code, secret=w.secret_of(actor))


PRIVATE = {
    # Order pages: a bearer link with a long secret, compared in constant time.
    "orders/<str:code>/<str:secret>/": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/",
        guess=wrong_secret("/orders/{code}/{secret}/"),
    ),
    # The owner's workshop sets no cut-off, so the page answers 403 saying buyers cannot cancel.
    "orders/<str:code>/<str:secret>/cancel/": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/cancel/",
        guess=wrong_secret("/orders/{code}/{secret}/cancel/"),
        owner_status=403,
    ),
    "orders/<str:code>/<str:secret>/invoice/": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/invoice/",
        guess=wrong_secret("/orders/{code}/{secret}/invoice/"),
    ),
    "orders/<str:code>/<str:secret>/invoice.pdf": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/invoice.pdf",
        guess=wrong_secret("/orders/{code}/{secret}/invoice.pdf"),
    ),
    "orders/<str:code>/<str:secret>/documents/<str:number>/": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/documents/{w.number}/",
        guess=lambda w, actor: f"/orders/{w.order.code}/{w.secret_of(actor)}/documents/{w.number}/",
    ),
    "orders/<str:code>/<str:secret>/documents/<str:number>.pdf": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/documents/{w.number}.pdf",
        guess=lambda w, actor: (
            f"/orders/{w.order.code}/{w.secret_of(actor)}/documents/{w.number}.pdf"
        ),
    ),
    # POST only; the owner's would replace the link the other entries use.
    "orders/<str:code>/<str:secret>/new-link/": Private(
        owner="attendee",
        url=lambda w: f"/orders/{w.order.code}/{w.order.secret}/new-link/",
        guess=wrong_secret("/orders/{code}/{secret}/new-link/"),
        method="post",
        owner_status=None,
    ),
    "tickets/mine/": account_page("/tickets/mine/"),
    # Sends links to the signed-in person's own addresses only.
    "tickets/mine/claim/": account_page("/tickets/mine/claim/", method="post", owner_status=302),
    # A claim link names its account: to any other it is not found.
    "tickets/mine/claim/<str:token>/": Private(
        owner="attendee",
        url=lambda w: f"/tickets/mine/claim/{w.claim_token}/",
        owner_sees_marker=False,
    ),
    "tickets/mine/<str:code>/documents/<str:number>/": Private(
        owner="attendee", url=lambda w: f"/tickets/mine/{w.order.code}/documents/{w.number}/"
    ),
    "tickets/mine/<str:code>/documents/<str:number>.pdf": Private(
        owner="attendee", url=lambda w: f"/tickets/mine/{w.order.code}/documents/{w.number}.pdf"
    ),
    "tickets/mine/<str:code>/invoice/": Private(
        owner="attendee", url=lambda w: f"/tickets/mine/{w.order.code}/invoice/"
    ),
    "tickets/mine/<str:code>/invoice.pdf": Private(
        owner="attendee", url=lambda w: f"/tickets/mine/{w.order.code}/invoice.pdf"
    ),
    # The person's data pages (workshop/privacy.py).
    "accounts/data/": account_page("/accounts/data/"),
    "accounts/data/export/": account_page("/accounts/data/export/"),
    # POST only, with the password: a GET is refused for everyone.
    "accounts/data/delete/": account_page("/accounts/data/delete/", owner_status=405),
    # allauth's account management: always the signed-in person's own.
    "accounts/email/": account_page("/accounts/email/"),
    "accounts/password/change/": account_page("/accounts/password/change/"),
    "accounts/password/set/": account_page("/accounts/password/set/", owner_status=302),
    "accounts/reauthenticate/": account_page("/accounts/reauthenticate/"),
    "accounts/reauthenticate/code/": account_page(
        "/accounts/reauthenticate/code/", owner_status=None
    ),
    "accounts/reauthenticate/code/confirm/": account_page(
        "/accounts/reauthenticate/code/confirm/", owner_status=None
    ),
    "accounts/3rdparty/": account_page("/accounts/3rdparty/"),
    "accounts/2fa/": account_page("/accounts/2fa/"),
    "accounts/2fa/reauthenticate/": account_page(
        "/accounts/2fa/reauthenticate/", owner_status=None
    ),
    "accounts/2fa/totp/activate/": account_page("/accounts/2fa/totp/activate/", owner_status=None),
    "accounts/2fa/totp/deactivate/": account_page(
        "/accounts/2fa/totp/deactivate/", owner_status=None
    ),
    "accounts/2fa/recovery-codes/": account_page(
        "/accounts/2fa/recovery-codes/", owner_status=None
    ),
    "accounts/2fa/recovery-codes/generate/": account_page(
        "/accounts/2fa/recovery-codes/generate/", owner_status=None
    ),
    "accounts/2fa/recovery-codes/download/": account_page(
        "/accounts/2fa/recovery-codes/download/", owner_status=None
    ),
    "accounts/2fa/webauthn/": account_page("/accounts/2fa/webauthn/", owner_status=None),
    "accounts/2fa/webauthn/add/": account_page("/accounts/2fa/webauthn/add/", owner_status=None),
    "accounts/2fa/webauthn/reauthenticate/": account_page(
        "/accounts/2fa/webauthn/reauthenticate/", owner_status=None
    ),
    # Another person's security key, by its number: must not be found.
    "accounts/2fa/webauthn/keys/<int:pk>/remove/": Private(
        owner="attendee",
        url=lambda w: f"/accounts/2fa/webauthn/keys/{w.key.pk}/remove/",
        owner_status=None,
    ),
    "accounts/2fa/webauthn/keys/<int:pk>/edit/": Private(
        owner="attendee",
        url=lambda w: f"/accounts/2fa/webauthn/keys/{w.key.pk}/edit/",
        owner_status=None,
    ),
    # Speakers: their own profile and talks.
    "speakers/me/": Private(owner="speaker", url=lambda w: "/speakers/me/", self_scoped=True),
    "speakers/<slug:slug>/edit/": Private(
        owner="speaker", url=lambda w: f"/speakers/{w.speaker.slug}/edit/", owner_status=302
    ),
    "talks/<slug:slug>/edit/": Private(
        owner="speaker", url=lambda w: f"/talks/{w.talk.slug}/edit/"
    ),
    # The call for proposals: the signed-in author's own proposals, found among theirs only.
    "call/submit/": Private(owner="speaker", url=lambda w: "/call/submit/", self_scoped=True),
    "call/proposals/": Private(owner="speaker", url=lambda w: "/call/proposals/", self_scoped=True),
    "call/proposals/<proposal:code>/": Private(
        owner="speaker", url=lambda w: f"/call/proposals/{w.proposal.code}/"
    ),
    "call/proposals/<proposal:code>/edit/": Private(
        owner="speaker", url=lambda w: f"/call/proposals/{w.proposal.code}/edit/"
    ),
    "call/proposals/<proposal:code>/withdraw/": Private(
        owner="speaker", url=lambda w: f"/call/proposals/{w.proposal.code}/withdraw/"
    ),
    "call/proposals/<proposal:code>/coauthors/": Private(
        owner="speaker", url=lambda w: f"/call/proposals/{w.proposal.code}/coauthors/"
    ),
    # Answers 409 to its author until the proposal is accepted; 404 to anyone else.
    "call/proposals/<proposal:code>/confirm/": Private(
        owner="speaker",
        url=lambda w: f"/call/proposals/{w.proposal.code}/confirm/",
        owner_status=409,
    ),
    # Invitation links: a bearer secret; the pending page holds it in the session only.
    "speakers/invitation/<str:token>/": Private(
        owner="invitee",
        url=lambda w: f"/speakers/invitation/{w.token}/",
        guess=lambda w, actor: f"/speakers/invitation/{w.token[:-4]}abcd/",
        owner_status=302,
    ),
    "speakers/invitation/": Private(
        owner="invitee", url=lambda w: "/speakers/invitation/", self_scoped=True, owner_status=None
    ),
    # Organisers' pages outside the admin.
    "organisers/": staff_page(lambda w: "/organisers/"),
    "organisers/check-in/": staff_page(lambda w: f"/organisers/check-in/?q={w.ticket.code}"),
    "organisers/check-in/<str:code>/": staff_page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/"
    ),
    "organisers/check-in/<str:code>/check-in/": staff_page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/check-in/",
        method="post",
        owner_status=None,
    ),
    "organisers/check-in/<str:code>/undo/": staff_page(
        lambda w: f"/organisers/check-in/{w.ticket.code}/undo/", method="post", owner_status=None
    ),
    "organisers/emails/failed/": staff_page(
        lambda w: "/organisers/emails/failed/", owner_sees_marker=False
    ),
    "organisers/emails/retry/": staff_page(
        lambda w: "/organisers/emails/retry/", method="post", owner_status=None
    ),
    "organisers/messages/": staff_page(lambda w: "/organisers/messages/"),
    "organisers/reviews/": staff_page(lambda w: "/organisers/reviews/"),
    "organisers/reviews/<proposal:code>/": staff_page(
        lambda w: f"/organisers/reviews/{w.proposal.code}/"
    ),
    "organisers/messages/new/": staff_page(
        lambda w: "/organisers/messages/new/", owner_sees_marker=False
    ),
    # A draft's page leads on to its preview.
    "organisers/messages/<int:pk>/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/", owner_status=302
    ),
    "organisers/messages/<int:pk>/edit/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/edit/"
    ),
    "organisers/messages/<int:pk>/preview/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/preview/"
    ),
    "organisers/messages/<int:pk>/test/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/test/", method="post", owner_status=None
    ),
    "organisers/messages/<int:pk>/send/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/send/", method="post", owner_status=None
    ),
    "organisers/messages/<int:pk>/retry/": staff_page(
        lambda w: f"/organisers/messages/{w.message.pk}/retry/", method="post", owner_status=None
    ),
}


def project_routes():
    """Return {route: name} of every URL pattern outside the admin, namespaces included."""
    routes = {}

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace]))
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern) and not route.startswith("admin/"):
                routes[route] = ":".join(filter(None, [namespace, pattern.name])) or "(unnamed)"

    walk(get_resolver().url_patterns, "", "")
    return routes


def test_every_pattern_is_classified():
    unlisted = [
        f"{route} ({name})"
        for route, name in project_routes().items()
        if route not in PUBLIC and route not in PRIVATE
    ]

    assert unlisted == [], (
        "These URL patterns are neither in PUBLIC nor in PRIVATE of "
        "tests/security/test_private_sweep.py; add each, with how to reach it if it is private: "
        + ", ".join(unlisted)
    )


def test_lists_name_only_existing_patterns():
    routes = project_routes()

    assert sorted((PUBLIC | set(PRIVATE)) - set(routes)) == []
    assert sorted(PUBLIC & set(PRIVATE)) == []


# -- The world: an owner of each kind, and the other actors -----------------------------------

MARKER = "Zephyrine Owner-Marker"


@pytest.fixture
def world(workshop, settings):
    """Owners with private data (all named MARKER) and the other actors, each signed up."""
    settings.STRIPE_SECRET_KEY = ""
    cache.clear()
    ticket_type = TicketTypeFactory(workshop=workshop, name="Regular")
    w = SimpleNamespace()
    w.attendee = verified_user(username="owner", email="owner@example.org", first_name=MARKER)
    w.order = OrderFactory(
        workshop=workshop,
        buyer_name=MARKER,
        buyer_email="owner@example.org",
        user=w.attendee,
        payment_method="invoice",
        invoice_details=f"{MARKER}\n1 Street",
    )
    w.ticket = TicketFactory(order=w.order, ticket_type=ticket_type, attendee_name=MARKER)
    w.order.refresh_from_db()
    w.number = issue_invoice(order=w.order).number
    guest_order = OrderFactory(
        workshop=workshop, buyer_name=MARKER, buyer_email="owner@example.org"
    )
    w.claim_token = order_links.claim_token(
        user=w.attendee, email="owner@example.org", orders=[guest_order]
    )
    w.key = Authenticator.objects.create(
        user=w.attendee, type=Authenticator.Type.WEBAUTHN, data={"name": MARKER}
    )
    w.speaker_user = verified_user(username="speaker", email="speaker@example.org")
    w.speaker = SpeakerFactory(name=MARKER, slug="owner-speaker", user=w.speaker_user)
    w.talk = TalkFactory(title=f"Talk of {MARKER}", slug="owner-talk", speakers=[w.speaker])
    w.proposal = ProposalFactory(
        talk=TalkFactory(title=f"Proposal of {MARKER}", published=False), authors=[w.speaker]
    )
    w.staff = verified_user(
        username="organiser2", email="staff@example.org", is_staff=True, is_superuser=True
    )
    w.message = AttendeeMessage.objects.create(
        workshop=workshop, subject=f"To {MARKER}", body=f"Dear {MARKER}"
    )
    unlinked = SpeakerFactory(name=f"Invited {MARKER}", slug="invited", email="inv@example.org")
    _, w.token = speaker_services.invite_speaker(speaker=unlinked, email="inv@example.org")
    w.invitee = UserFactory(username="invitee", email="inv@example.org")

    others = {
        "another attendee": verified_user(username="other", email="other@example.org"),
        "another speaker": verified_user(username="other-speaker", email="os@example.org"),
        "non-staff user": verified_user(username="plain", email="plain@example.org"),
    }
    SpeakerFactory(name="Other Speaker", slug="other-speaker", user=others["another speaker"])
    other_order = OrderFactory(workshop=workshop, buyer_email="other@example.org")
    w.secrets = {"another attendee": other_order.secret}
    w.users = {"anonymous": None, **others}
    w.secret_of = lambda actor: w.secrets.get(actor, "x" * 43)
    w.owners = {
        "attendee": w.attendee,
        "speaker": w.speaker_user,
        "staff": w.staff,
        "invitee": w.invitee,
    }
    return w


def request_as(client, user, method, url):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url)


def refusal_problem(response, *, self_scoped, signed_in):
    """Return what is wrong with a response that should refuse, or None."""
    status, body = response.status_code, response.content.decode(errors="replace")
    if status >= 500:
        return f"answered {status}"
    if MARKER in body:
        return f"answered {status} with the owner's data"
    if status == 302:
        location = response["Location"]
        if not signed_in and not location.startswith("/accounts/login/"):
            return f"redirected anonymous to {location}, not to sign in"
        return None
    if self_scoped and signed_in:
        return None  # their own page, without the owner's data
    if status not in (403, 404, 405, 410):
        return f"answered {status}"
    return None


def refusals(client, world, entry, method):
    """Request the entry as every other actor; return what went wrong."""
    problems = []
    for actor in ACTORS:
        user = world.users[actor]
        url = entry.guess(world, actor) if entry.guess else entry.url(world)
        response = request_as(client, user, method, url)
        problem = refusal_problem(
            response, self_scoped=entry.self_scoped, signed_in=user is not None
        )
        if problem:
            problems.append(f"{actor}: {method.upper()} {url} {problem}")
    return problems


@pytest.mark.parametrize("route", sorted(PRIVATE))
def test_private_pattern_refuses_every_other_actor(client, world, route):
    entry = PRIVATE[route]

    assert refusals(client, world, entry, entry.method) == []


@pytest.mark.parametrize(
    "route",
    sorted(r for r, entry in PRIVATE.items() if entry.method == "get" and not entry.self_scoped),
)
def test_private_pattern_refuses_every_other_actor_a_post(client, world, route):
    # A page's form must be as closed as the page: an empty POST changes nothing for others.
    entry = PRIVATE[route]

    assert refusals(client, world, entry, "post") == []


@pytest.mark.parametrize(
    "route", sorted(r for r, entry in PRIVATE.items() if entry.owner_status is not None)
)
def test_private_pattern_serves_its_owner(client, world, route):
    # Proves that the addresses above are right, so a refusal is not just a wrong address.
    entry = PRIVATE[route]

    response = request_as(client, world.owners[entry.owner], entry.method, entry.url(world))

    assert response.status_code == entry.owner_status, response.content.decode()[:500]
    if entry.owner_status == 200 and entry.owner_sees_marker:
        body = response.content.decode(errors="replace")
        pdf = response["Content-Type"] == "application/pdf"
        assert pdf or MARKER in body or entry.self_scoped


@pytest.mark.urls("tests.security.urls_private")
def test_a_new_unlisted_view_fails_the_sweep():
    # tests/security/urls_private.py adds a page reached by a secret link, listed nowhere.
    with pytest.raises(AssertionError, match=r"private/<str:secret>/ \(\(unnamed\)\)"):
        test_every_pattern_is_classified()


# Addresses of the public patterns with parameters, with values that match nothing.
PUBLIC_EXAMPLES = {
    "<slug:slug>/": "/no-such-page/",
    "speakers/<slug:slug>/": "/speakers/no-such-speaker/",
    "speakers/<slug:slug>.ics": "/speakers/no-such-speaker.ics",
    "talks/<slug:slug>/": "/talks/no-such-talk/",
    "talks/<slug:slug>.ics": "/talks/no-such-talk.ics",
    "tickets/waiting-list/<int:type_id>/": "/tickets/waiting-list/999999/",
    "tickets/waiting-list/confirm/<str:token>/": "/tickets/waiting-list/confirm/no-such-link/",
    "tickets/waiting-list/offer/<str:token>/": "/tickets/waiting-list/offer/no-such-link/",
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": "/accounts/confirm-email/no-such-key/",
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": (
        "/accounts/password/reset/key/zz-no-such-key/"
    ),
}


def public_address(route):
    return PUBLIC_EXAMPLES.get(route) or f"/{route}"


def test_every_public_pattern_with_parameters_has_an_example():
    with_parameters = {r for r in PUBLIC if "<" in r or "(?P" in r}

    assert sorted(with_parameters - set(PUBLIC_EXAMPLES)) == []


@pytest.mark.parametrize("route", sorted(PUBLIC))
def test_public_pattern_answers_anonymous_without_error(client, workshop, route):
    response = client.get(public_address(route))

    assert response.status_code < 500


def test_provider_sign_in_without_application_answers_404(client, workshop):
    from allauth.socialaccount.models import SocialApp
    from django.contrib.sites.models import Site

    missing = client.get("/accounts/github/login/")
    app = SocialApp.objects.create(provider="github", name="GitHub", client_id="id", secret="s")
    app.sites.add(Site.objects.get_current())
    configured = client.get("/accounts/github/login/")

    assert missing.status_code == 404
    assert configured.status_code == 200
    assert "GitHub" in configured.content.decode()


@pytest.mark.parametrize("route", sorted(PUBLIC))
def test_public_pattern_answers_an_empty_post_without_error(client, workshop, settings, route):
    # Configured, so that the webhook judges the request instead of asking Stripe to retry.
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"

    response = client.post(public_address(route), {})

    assert response.status_code < 500
