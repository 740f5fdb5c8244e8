"""The Content-Security-Policy header: built from the setting, once, sent with every answer."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from workshop.security import ContentSecurityPolicyMiddleware, site_policy


def page(request):
    return HttpResponse("<p>Hello</p>")


def page_with_its_own_policy(request):
    response = HttpResponse("<p>Hello</p>")
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


def missing(request):
    return HttpResponse("Not found", status=404)


def answer(view):
    return ContentSecurityPolicyMiddleware(view)(RequestFactory().get("/"))


def test_header_lists_the_directives_in_the_settings_order(settings):
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "upgrade-insecure-requests": True,
            "report-uri": None,
        }
    }

    response = answer(page)

    assert response["Content-Security-Policy"] == (
        "default-src 'self'; img-src 'self' data:; upgrade-insecure-requests"
    )


def test_sites_policy_is_sent(settings):
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]

    header = answer(page)["Content-Security-Policy"]

    sent = {part.split()[0]: part.split()[1:] for part in header.split("; ")}
    assert sent == directives


def test_changed_setting_gives_the_changed_header(settings):
    before = answer(page)["Content-Security-Policy"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    after = answer(page)["Content-Security-Policy"]

    assert before != after == "default-src 'none'"


def test_policy_is_built_once(settings):
    site_policy.cache_clear()
    for _ in range(5):
        answer(page)

    assert site_policy.cache_info().misses == 1


def test_view_with_its_own_policy_keeps_it():
    assert answer(page_with_its_own_policy)["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize("debug", [True, False])
def test_debug_pages_only_go_without_a_policy(settings, debug):
    settings.DEBUG = debug

    response = answer(missing)

    assert ("Content-Security-Policy" in response) is not debug


def test_the_sites_pages_carry_it_rendered_and_stored(client, db):
    for path in ("/", "/", "/no-such-page/"):  # the second "/" is the stored page
        assert client.get(path)["Content-Security-Policy"] == site_policy()
