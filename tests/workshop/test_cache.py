"""The page cache: public pages served from it, every change visible at once, nothing private."""

import io
import logging

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from schedule.models import Slot
from tests.factories import (
    OrderFactory,
    PageFactory,
    RoomFactory,
    SlotFactory,
    SpeakerFactory,
    SupporterFactory,
    TalkFactory,
    TalkLinkFactory,
    TicketFactory,
    TicketTypeFactory,
    UserFactory,
    VoucherFactory,
)
from tickets.models import Order
from workshop import cache as page_cache
from workshop.cache import (
    CONTENT,
    PAGE_KEY,
    TICKETS,
    LocalPages,
    bump_content_version,
    content_versions,
)
from workshop.cache_backends import FaultTolerantRedisCache

pytestmark = pytest.mark.django_db


class RecordingCache:
    """The project's cache, noting the keys pages are written under (it cannot list its keys)."""

    def __init__(self):
        self.page_keys = set()

    def __getattr__(self, name):
        return getattr(cache, name)

    def set(self, key, value, *args, **kwargs):
        if key.startswith(PAGE_KEY.format(digest="")):
            self.page_keys.add(key)
        return cache.set(key, value, *args, **kwargs)


recording = RecordingCache()


@pytest.fixture(autouse=True)
def record_page_keys(monkeypatch):
    recording.page_keys.clear()
    monkeypatch.setattr(page_cache, "cache", recording)


def stored_pages():
    """Return the keys of the pages in the cache."""
    return sorted(key for key in recording.page_keys if cache.get(key) is not None)


@pytest.fixture
def site(workshop):
    """One of everything a public page shows."""
    speaker = SpeakerFactory(name="Ada Lindqvist", slug="ada")
    room = RoomFactory(name="Main stage")
    talk = TalkFactory(title="Choosing metrics", slug="choosing-metrics", speakers=[speaker])
    slot = SlotFactory(workshop=workshop, room=room, talk=talk)
    return {
        "workshop": workshop,
        "page": PageFactory(slug="venue", title="Venue", body="Online."),
        "speaker": speaker,
        "room": room,
        "talk": talk,
        "slot": slot,
        "ticket_type": TicketTypeFactory(workshop=workshop, name="Regular", capacity=10),
    }


PUBLIC_PATHS = [
    "/",
    "/venue/",
    "/talks/",
    "/talks/choosing-metrics/",
    "/schedule/",
    "/speakers/",
    "/speakers/ada/",
    "/tickets/",
    "/schedule.xml",
    "/schedule.json",
    "/schedule.ics",
    "/talks/choosing-metrics.ics",
    "/speakers/ada.ics",
    "/workshop.ics",
    "/sitemap.xml",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_page_second_request_makes_no_queries(client, site, django_assert_num_queries, path):
    first = client.get(path)

    with django_assert_num_queries(0):
        second = client.get(path)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Cache-Control"] == "public, max-age=0, must-revalidate"


def test_export_keeps_its_headers_when_served_from_cache(client, site):
    client.get("/schedule.ics")

    cached = client.get("/schedule.ics")

    assert cached["Access-Control-Allow-Origin"] == "*"
    assert cached["Content-Disposition"] == 'inline; filename="schedule.ics"'
    assert cached["Content-Type"] == "text/calendar; charset=utf-8"


def rename_workshop(site):
    site["workshop"].title = "Fresh workshop title"
    site["workshop"].save()
    return "Fresh workshop title"


def edit_page(site):
    site["page"].body = "Fresh page words."
    site["page"].save()
    return "Fresh page words."


def add_supporter(site):
    SupporterFactory(workshop=site["workshop"], name="Fresh Supporter")
    return "Fresh Supporter"


def rename_speaker(site):
    site["speaker"].name = "Grace Fresh"
    site["speaker"].save()
    return "Grace Fresh"


def rename_talk(site):
    site["talk"].title = "Fresh talk title"
    site["talk"].save()
    return "Fresh talk title"


def add_talk_link(site):
    TalkLinkFactory(talk=site["talk"], title="Fresh slides")
    return "Fresh slides"


def add_talk_speaker(site):
    site["talk"].speakers.add(SpeakerFactory(name="Second Fresh Speaker"))
    return "Second Fresh Speaker"


def rename_room(site):
    site["room"].name = "Fresh room"
    site["room"].save()
    return "Fresh room"


def add_break(site):
    slot = site["slot"]
    SlotFactory(
        workshop=site["workshop"],
        room=None,
        talk=None,
        title="Fresh break",
        start=slot.end,
        end=slot.end + (slot.end - slot.start),
    )
    return "Fresh break"


def rename_ticket_type(site):
    site["ticket_type"].name = "Fresh ticket"
    site["ticket_type"].save()
    return "Fresh ticket"


def publish_a_page(site):
    PageFactory(slug="fresh-page", title="Fresh page")
    return "/fresh-page/"


def sell_a_ticket(site):
    order = OrderFactory(workshop=site["workshop"], status=Order.Status.PAID)
    TicketFactory(order=order, ticket_type=site["ticket_type"])
    return "9 left"


CHANGES = [
    (rename_workshop, "/", CONTENT),
    (edit_page, "/venue/", CONTENT),
    (add_supporter, "/", CONTENT),
    (rename_speaker, "/speakers/", CONTENT),
    (rename_speaker, "/speakers/ada/", CONTENT),
    (rename_talk, "/talks/", CONTENT),
    (add_talk_link, "/talks/choosing-metrics/", CONTENT),
    (add_talk_speaker, "/talks/choosing-metrics/", CONTENT),
    (rename_room, "/schedule/", CONTENT),
    (add_break, "/schedule/", CONTENT),
    (rename_talk, "/schedule.json", CONTENT),
    (rename_talk, "/talks/choosing-metrics.ics", CONTENT),
    (publish_a_page, "/sitemap.xml", CONTENT),
    (rename_workshop, "/workshop.ics", CONTENT),
    (rename_talk, "/speakers/ada.ics", CONTENT),
    (rename_ticket_type, "/tickets/", TICKETS),
    (sell_a_ticket, "/tickets/", TICKETS),
]


@pytest.mark.parametrize(("change", "path", "scope"), CHANGES)
def test_change_bumps_version_and_shows_on_next_request(client, site, change, path, scope):
    before = client.get(path).content.decode()
    version = content_versions([scope])

    shown = change(site)
    after = client.get(path).content.decode()

    assert shown not in before
    assert shown in after
    assert content_versions([scope]) != version


@pytest.mark.parametrize("path", ["/schedule/", "/schedule.json"])
def test_deleted_slot_leaves_the_schedule_at_once(client, site, path):
    before = client.get(path).content.decode()

    Slot.objects.filter(pk=site["slot"].pk).delete()
    after = client.get(path).content.decode()

    assert "Choosing metrics" in before
    assert "Choosing metrics" not in after


def test_voucher_unlocking_a_type_shows_on_next_request(client, site):
    hidden = TicketTypeFactory(workshop=site["workshop"], name="Speaker ticket", visible=False)
    voucher = VoucherFactory(workshop=site["workshop"], code="SPEAK")
    before = client.get("/tickets/?voucher=SPEAK").content.decode()

    voucher.ticket_types.add(hidden)
    after = client.get("/tickets/?voucher=SPEAK").content.decode()

    assert "Speaker ticket" not in before
    assert "Speaker ticket" in after


def test_order_leaves_content_pages_cached(client, site, django_assert_num_queries):
    client.get("/talks/")

    sell_a_ticket(site)

    with django_assert_num_queries(0):
        assert client.get("/talks/").status_code == 200


def test_stored_page_is_replaced_not_piled_up_after_changes(client, site):
    for title in ["One", "Two", "Three"]:
        site["talk"].title = title
        site["talk"].save()
        assert title in client.get("/talks/").content.decode()

    assert len(stored_pages()) == 1


TOKYO = "shown in <strong>Asia/Tokyo"


def test_chosen_time_zone_is_not_served_to_others(site, django_assert_max_num_queries):
    tokyo, other = Client(), Client()
    tokyo.get("/schedule/?tz=Asia/Tokyo")

    tokyo_first = tokyo.get("/schedule/").content.decode()
    other_first = other.get("/schedule/").content.decode()
    with django_assert_max_num_queries(1):  # the session, to know the visitor's zone
        tokyo_again = tokyo.get("/schedule/").content.decode()
    other_again = other.get("/schedule/").content.decode()

    assert TOKYO in tokyo_first and TOKYO in tokyo_again
    assert TOKYO not in other_first and TOKYO not in other_again
    assert tokyo_again == tokyo_first and other_again == other_first


def test_zone_choice_in_address_is_remembered_even_when_page_is_cached(site):
    Client().get("/talks/?tz=Asia/Tokyo")
    visitor = Client()

    visitor.get("/talks/?tz=Asia/Tokyo")

    assert TOKYO in visitor.get("/talks/").content.decode()


def test_page_for_zone_choice_is_private_to_shared_caches(site):
    visitor = Client()
    visitor.get("/schedule/?tz=Asia/Tokyo")

    response = visitor.get("/schedule/")

    assert response["Cache-Control"] == "private, max-age=0, must-revalidate"
    assert "Cookie" in response["Vary"]


def test_signed_in_visitor_is_not_served_from_cache(client, site, organiser):
    client.get("/")
    signed_in = Client()
    signed_in.force_login(organiser)

    response = signed_in.get("/")

    assert "Sign out" in response.content.decode()
    assert "public" not in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_signed_in_visitor_does_not_fill_cache(client, site, organiser):
    client.force_login(organiser)

    for path in PUBLIC_PATHS:
        client.get(path)

    assert stored_pages() == []
    assert "Sign out" not in Client().get("/").content.decode()


@pytest.mark.urls("tests.workshop.urls_cache")
def test_page_using_csrf_is_not_stored(client, db):
    from tests.workshop import urls_cache

    urls_cache.renders.clear()

    first = client.get("/cache-test/form/")
    client.get("/cache-test/form/")
    client.get("/cache-test/plain/")
    client.get("/cache-test/plain/")

    assert urls_cache.renders == ["/cache-test/form/"] * 2 + ["/cache-test/plain/"]
    assert "csrftoken" in first.cookies
    assert "public" not in first["Cache-Control"]


def test_messages_are_shown_not_the_cached_page(client, site):
    client.get("/tickets/")

    refused = client.get("/tickets/checkout/")  # nothing chosen: back with a message
    with_message = client.get(refused["Location"])
    afterwards = client.get("/tickets/")

    assert refused.status_code == 302
    assert 'class="message message-error"' in with_message.content.decode()
    assert 'class="message' not in afterwards.content.decode()
    assert "public" not in with_message["Cache-Control"]


def test_page_with_message_from_bad_voucher_is_not_stored(client, site):
    first = client.get("/tickets/?voucher=NOPE")

    second = client.get("/tickets/?voucher=NOPE")

    assert 'class="message message-error"' in first.content.decode()
    assert 'class="message message-error"' in second.content.decode()
    assert stored_pages() == []


@pytest.mark.parametrize("path", ["/", "/schedule/", "/schedule.json"])
def test_unchanged_page_answers_304(client, site, path):
    first = client.get(path)

    by_etag = client.get(path, headers={"if-none-match": first["ETag"]})
    by_date = client.get(path, headers={"if-modified-since": first["Last-Modified"]})

    assert (by_etag.status_code, by_date.status_code) == (304, 304)
    assert by_etag.content == by_date.content == b""
    assert by_etag["ETag"] == first["ETag"]


def test_etag_changes_after_an_edit(client, site):
    first = client.get("/talks/")

    rename_talk(site)
    response = client.get("/talks/", headers={"if-none-match": first["ETag"]})

    assert response.status_code == 200
    assert response["ETag"] != first["ETag"]
    assert "Fresh talk title" in response.content.decode()


def test_missing_page_is_not_stored(client, site):
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/talks/no-such-talk/").status_code == 404

    assert stored_pages() == []


def test_post_to_public_page_is_refused_not_cached(client, site):
    assert client.post("/talks/").status_code == 405
    assert stored_pages() == []


@pytest.fixture(
    params=[
        "workshop.cache_backends.FaultTolerantRedisCache",  # what settings use with REDIS_URL
        "django.core.cache.backends.redis.RedisCache",  # Django's own, which raises
    ]
)
def redis_down(settings, request):
    """Point the cache at a port where nothing listens, as when Redis is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": request.param,
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_redis_down_pages_render_uncached_with_one_warning(client, site, redis_down, caplog, path):
    caplog.set_level(logging.WARNING, logger="workshop.cache")

    response = client.get(path)

    assert response.status_code == 200
    warnings = [r for r in caplog.records if r.name == "workshop.cache"]
    assert len(warnings) == 1
    assert "Page cache unavailable" in warnings[0].getMessage()


def test_redis_down_orders_still_work(client, site, redis_down, settings, caplog):
    settings.STRIPE_SECRET_KEY = ""
    free = TicketTypeFactory(workshop=site["workshop"], name="Community", price="0.00")
    data = {
        f"qty_{free.id}": "1",
        "buyer_name": "Ada Buyer",
        "buyer_email": "ada@example.org",
        "attendee_1_name": "Ada Buyer",
        "attendee_1_email": "ada@example.org",
        "payment_method": "free",
        "accept_code_of_conduct": "on",
    }

    response = client.post("/tickets/checkout/", data)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.get_absolute_url()
    assert order.status == Order.Status.PAID
    assert any("not counted" in r.getMessage() for r in caplog.records)  # rate limit let it by


def test_redis_down_sign_in_still_works(client, site, settings, caplog, monkeypatch):
    monkeypatch.setattr(FaultTolerantRedisCache, "last_warning", 0.0)
    settings.CACHES = {
        "default": {
            "BACKEND": "workshop.cache_backends.FaultTolerantRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    user = UserFactory(email="ada@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    response = client.post(
        "/accounts/login/",
        {"login": "ada@example.org", "password": "correct horse battery staple"},
    )

    assert response.status_code == 302
    assert "Sign out" in client.get(response["Location"]).content.decode()
    assert any("Redis unavailable" in r.getMessage() for r in caplog.records)


def public_view_names():
    """Return the URL names whose views go through the page cache."""
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                callback = pattern.callback
                view_class = getattr(callback, "view_class", None)
                target = view_class.dispatch if view_class else callback
                if getattr(target, "caches_public_page", False):
                    names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_only_public_views_go_through_the_cache():
    assert public_view_names() == {
        "workshop:home",
        "workshop:page",
        "workshop:sitemap",
        "workshop:ics",
        "schedule:talk_list",
        "schedule:talk_detail",
        "schedule:schedule",
        "schedule:schedule_ics",
        "schedule:schedule_xml",
        "schedule:schedule_json",
        "schedule:pretalx_ics",
        "schedule:pretalx_xml",
        "schedule:pretalx_json",
        "schedule:talk_ics",
        "schedule:speaker_ics",
        "schedule:call",
        "speakers:list",
        "speakers:list_legacy",
        "speakers:detail",
        "tickets:ticket_list",
    }


def test_private_pages_are_never_cached_or_public(client, site, organiser):
    buyer = UserFactory(email="buyer@example.org")
    SpeakerFactory(name="Own Profile", user=buyer)
    order = OrderFactory(workshop=site["workshop"], user=buyer)
    anonymous = Client()
    client.force_login(buyer)
    staff = Client()
    staff.force_login(organiser)
    visits = [
        (anonymous, order.get_absolute_url()),
        (client, "/tickets/mine/"),
        (client, "/speakers/me/"),
        (client, "/accounts/email/"),
        (staff, "/admin/"),
        (staff, "/admin/tickets/order/"),
        (staff, "/organisers/"),
    ]

    for visitor, path in visits:
        for _ in range(2):
            response = visitor.get(path)
            assert response.status_code in {200, 302, 404}, path
            cache_control = response.get("Cache-Control", "")
            assert "public" not in cache_control, path
            if visitor is not anonymous:
                assert "private" in cache_control and "no-store" in cache_control, path
        assert stored_pages() == [], path
    assert anonymous.get(order.get_absolute_url())["Cache-Control"] == "private, no-store"


def test_forget_cached_pages_command_makes_pages_render_afresh(client, site):
    client.get("/talks/")
    Talk = type(site["talk"])
    Talk.objects.filter(pk=site["talk"].pk).update(title="Edited with SQL")  # no signals
    stale = client.get("/talks/").content.decode()
    out = io.StringIO()

    call_command("forget_cached_pages", stdout=out)

    assert "Edited with SQL" not in stale
    assert "Edited with SQL" in client.get("/talks/").content.decode()
    assert out.getvalue() == "Cached pages will be rendered afresh on their next request.\n"


@pytest.mark.parametrize("accept", ["", "gzip, deflate, br"])
@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_stored_page_for_cookieless_visitor_has_the_headers_of_a_rendered_one(site, path, accept):
    rendered = Client().get(path, headers={"accept-encoding": accept})

    stored = Client().get(path, headers={"accept-encoding": accept})

    assert stored.content == rendered.content
    assert dict(stored.items()) == dict(rendered.items())
    assert stored["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in stored


def test_cookieless_visitor_is_answered_before_sessions_and_views(client, site):
    first = client.get("/talks/")

    second = client.get("/talks/")

    assert hasattr(first.wsgi_request, "session") and hasattr(first.wsgi_request, "user")
    assert not hasattr(second.wsgi_request, "session")
    assert not hasattr(second.wsgi_request, "user")
    assert second.content == first.content


def test_visitor_with_session_is_answered_by_the_view_decorator(site):
    visitor = Client()
    visitor.get("/talks/?tz=Asia/Tokyo")
    visitor.get("/talks/")

    again = visitor.get("/talks/")

    assert hasattr(again.wsgi_request, "session")
    assert TOKYO in again.content.decode()


def test_unknown_host_is_refused_not_looked_up(client, site, caplog):
    response = client.get("/talks/", HTTP_HOST="evil.example.org")

    assert response.status_code == 400
    assert not [r for r in caplog.records if r.name == "workshop.cache"]


def test_hit_reads_only_the_versions_when_this_process_has_the_page(client, site):
    client.get("/schedule.json")
    for key in stored_pages():  # gone from the shared cache; this process keeps its copy
        cache.delete(key)

    again = client.get("/schedule.json")

    assert again.status_code == 200
    assert "Choosing metrics" in again.content.decode()
    assert stored_pages() == []


def test_this_process_copy_is_not_used_after_a_change(client, site):
    client.get("/talks/")
    Talk = type(site["talk"])
    # A write without save() moves updated_at itself, as schedule.services.swap_talks does.
    changed = {"title": "Changed without a signal", "updated_at": timezone.now()}
    Talk.objects.filter(pk=site["talk"].pk).update(**changed)
    bump_content_version()

    assert "Changed without a signal" in client.get("/talks/").content.decode()


def test_local_pages_keep_the_most_recent_within_their_size():
    pages = LocalPages(max_bytes=40)

    for name in "abcde":
        pages.put(name, {"bodies": {"identity": b"x" * 10}})
    # All its copies together pass a quarter of the budget: not kept.
    pages.put("huge", {"bodies": {"identity": b"x" * 5, "br": b"x" * 6}})

    assert [name for name in "abcde" if pages.get(name)] == ["b", "c", "d", "e"]
    assert pages.get("huge") is None
