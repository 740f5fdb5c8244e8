"""The site's CSP middleware sends exactly what django-csp's would, building the policy once."""

import pytest
from csp.constants import NONCE
from csp.decorators import csp_exempt, csp_update
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from workshop.security import CSPMiddleware


def page(request):
    return HttpResponse("<p>Hello</p>")


@csp_update({"img-src": "https://images.example.org"})
def page_with_images_elsewhere(request):
    return HttpResponse("<p>Hello</p>")


@csp_exempt()
def page_without_policy(request):
    return HttpResponse("<p>Hello</p>")


def page_with_nonce(request):
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


def answer(middleware_class, view, path="/"):
    request = RequestFactory().get(path)
    return request, middleware_class(view)(request)


def policy(response):
    header = response.get("Content-Security-Policy")
    return header and sorted(part.strip() for part in header.split(";"))


@pytest.mark.parametrize(
    "view", [page, page_with_images_elsewhere, page_without_policy, page_with_nonce]
)
def test_headers_are_those_of_django_csp(view):
    _request, ours = answer(CSPMiddleware, view)
    _request, theirs = answer(DjangoCSPMiddleware, view)

    assert policy(ours) == policy(theirs)
    assert ("Content-Security-Policy-Report-Only" in ours) == (
        "Content-Security-Policy-Report-Only" in theirs
    )


def test_nonce_is_in_the_header_when_the_page_used_one(settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}

    request, response = answer(CSPMiddleware, page_with_nonce)

    assert f"'nonce-{request._csp_nonce}'" in response["Content-Security-Policy"]


def test_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    request, _response = answer(CSPMiddleware, page)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_changed_settings_give_the_changed_policy(settings):
    answer(CSPMiddleware, page)  # the policy of the settings before
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"default-src": ["'self'"]},
        "EXCLUDE_URL_PREFIXES": ["/excluded/"],
    }

    _request, response = answer(CSPMiddleware, page)
    _request, excluded = answer(CSPMiddleware, page, path="/excluded/page/")

    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"
    assert "Content-Security-Policy-Report-Only" not in excluded
