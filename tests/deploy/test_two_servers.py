"""Two app servers (real gunicorn processes) on one PostgreSQL and one Redis.

Shows that the app keeps no state in its processes: a change made through either server, or
straight in the database, is served at once by the other, and a ticket rush split across both
never oversells.
"""

import re
import threading
import uuid
from collections import Counter
from html.parser import HTMLParser

import pytest
import redis
import requests
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.factories import (
    PageFactory,
    RoomFactory,
    SlotFactory,
    TalkFactory,
    TicketTypeFactory,
    UserFactory,
    WorkshopFactory,
)
from tests.servers import gunicorn_servers, server_env
from tickets.models import Order, Ticket

REDIS = "redis://127.0.0.1:6379/0"
SEATS = 10
PASSWORD = "correct horse battery staple"
BUYERS = 30


def redis_running():
    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="Several servers share one PostgreSQL."
    ),
    pytest.mark.skipif(not redis_running(), reason="Needs Redis on 127.0.0.1:6379."),
]


@pytest.fixture(scope="module")
def redis_prefix():
    """A key prefix of this module's own in the shared Redis, emptied at the end."""
    prefix = f"two-servers-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="module")
def servers(django_db_setup, redis_prefix):
    """Start two gunicorn servers on free ports against the test database; yield their addresses."""
    from django.conf import settings

    env = server_env(settings, REDIS_URL=REDIS, CACHE_KEY_PREFIX=redis_prefix, STRIPE_SECRET_KEY="")
    with gunicorn_servers(env) as urls:
        yield urls


@pytest.fixture
def shared_cache(settings, redis_prefix):
    """Let this process bump the versions the servers read, as the admin on a third server."""
    settings.CACHES = {
        "default": {
            "BACKEND": "workshop.cache_backends.FaultTolerantRedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": redis_prefix,
        }
    }


@pytest.fixture
def workshop_on_servers(servers, transactional_db, shared_cache):
    """The current workshop, committed so that both servers see it; yield the servers."""
    WorkshopFactory()
    return servers


def buy(base_url, ticket_type_id, number):
    """Walk the checkout like a browser (form, CSRF cookie, post); return the answer."""
    session = requests.Session()
    checkout = f"{base_url}/tickets/checkout/"
    form = session.get(checkout, params={f"qty_{ticket_type_id}": 1}, timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    if token is None:  # sold out before the form: sent back to the ticket page with why
        return form
    token = token[1]
    data = {
        "csrfmiddlewaretoken": token,
        f"qty_{ticket_type_id}": "1",
        "buyer_name": f"Buyer {number}",
        "buyer_email": f"buyer{number}@example.org",
        "attendee_1_name": f"Buyer {number}",
        "attendee_1_email": f"buyer{number}@example.org",
        "payment_method": "free",
        "accept_code_of_conduct": "on",
    }
    headers = {"Referer": checkout}
    return session.post(checkout, data=data, headers=headers, allow_redirects=False, timeout=30)


def text(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code)
    return response.text


def test_change_through_one_server_is_served_at_once_by_the_other(workshop_on_servers):
    servers = workshop_on_servers
    first, second = servers
    talk = TalkFactory(title="Original title", slug="original")
    SlotFactory(room=RoomFactory(), talk=talk)
    seats = TicketTypeFactory(name="Community", price="0.00", capacity=SEATS)
    for url in servers:  # fill both servers' view of the cache
        assert "Original title" in text(f"{url}/talks/") and "Original title" in text(
            f"{url}/talks/"
        )
        assert f"{SEATS} left" in text(f"{url}/tickets/")
    cached = requests.get(f"{second}/talks/", timeout=10)

    talk.title = "Renamed title"
    talk.save()  # as the admin does, in this process
    bought = buy(first, seats.id, 0)  # a change through the first server

    assert bought.status_code == 302 and "/orders/" in bought.headers["Location"]
    for url in (second, first):
        assert "Renamed title" in text(f"{url}/talks/")
        assert "Renamed title" in text(f"{url}/schedule.json")
        assert f"{SEATS - 1} left" in text(f"{url}/tickets/")
    again = requests.get(f"{second}/talks/", headers={"If-None-Match": cached.headers["ETag"]})
    assert again.status_code == 200 and again.headers["ETag"] != cached.headers["ETag"]


class FormFields(HTMLParser):
    """Collect what a browser would post from the form with ``form_id``."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.fields, self.textarea = form_id, False, {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif self.inside and tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" in attrs:
                self.fields[attrs["name"]] = attrs.get("value") or "on"
            elif kind not in {"checkbox", "radio", "submit", "file"}:
                self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self.inside and tag == "textarea":
            self.textarea = attrs["name"]
            self.fields[self.textarea] = ""
        elif self.inside and tag == "option" and "selected" in attrs:
            self.fields[self.select] = attrs.get("value", "")
        elif self.inside and tag == "select":
            self.select = attrs["name"]

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "form":
            self.inside = False


def sign_in(base_url, email, password):
    """Sign in through the site's own sign-in page; return the browser session."""
    session = requests.Session()
    page = session.get(f"{base_url}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    data = {"csrfmiddlewaretoken": token, "login": email, "password": password}
    headers = {"Referer": f"{base_url}/accounts/login/"}
    signed_in = session.post(f"{base_url}/accounts/login/", data=data, headers=headers, timeout=10)
    assert "Sign out" in signed_in.text, signed_in.text[-1500:]
    return session


def test_admin_edit_through_one_server_is_served_at_once_by_the_other(workshop_on_servers):
    first, second = workshop_on_servers
    page = PageFactory(slug="venue", title="Venue", body="Old directions.", published=True)
    organiser = UserFactory(email="organiser@example.org", is_staff=True, is_superuser=True)
    # The servers know only Django's default hashers, not the fast one the tests use.
    organiser.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    organiser.save()
    EmailAddress.objects.create(user=organiser, email=organiser.email, verified=True, primary=True)
    for url in workshop_on_servers:
        assert "Old directions." in text(f"{url}/venue/") and "Old directions." in text(
            f"{url}/venue/"
        )
    admin = sign_in(first, organiser.email, PASSWORD)
    change = f"{first}/admin/workshop/page/{page.pk}/change/"
    form = FormFields("page_form")
    form.feed(admin.get(change, timeout=10).text)

    saved = admin.post(
        change,
        data={**form.fields, "body": "New directions.", "_save": "Save"},
        headers={"Referer": change},
        allow_redirects=False,
        timeout=10,
    )

    assert saved.status_code == 302, saved.text[-2000:]
    assert "New directions." in text(f"{second}/venue/")
    assert "New directions." in text(f"{first}/venue/")


def test_ticket_rush_split_across_two_servers_never_oversells(workshop_on_servers):
    servers = workshop_on_servers
    seats = TicketTypeFactory(name="Community", price="0.00", capacity=SEATS)
    for url in servers:
        assert f"{SEATS} left" in text(f"{url}/tickets/")
    results = {}

    def run(number):
        try:
            results[number] = buy(servers[number % 2], seats.id, number)
        except Exception as error:  # recorded so that the assertion names it
            results[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results.values())
    refused = [r for r in results.values() if getattr(r, "status_code", None) in {200, 409}]
    assert statuses[302] == SEATS, statuses
    assert set(statuses) <= {302, 409, 503, 200}, statuses
    assert all("sold out" in r.text or "are left" in r.text for r in refused), statuses
    assert Ticket.objects.filter(ticket_type=seats).count() == SEATS
    assert Order.objects.filter(status=Order.Status.PAID).count() == SEATS
    for url in servers:
        assert f"{SEATS} left" not in text(f"{url}/tickets/")
        assert "Sold out" in text(f"{url}/tickets/")
