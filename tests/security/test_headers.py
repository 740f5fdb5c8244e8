"""Security headers and cookies, as production serves them and as every page gets them.

The production cases run Django in a fresh process with DJANGO_ENV=production, as the settings
tests do, against a throw-away SQLite database.
"""

import json

import pytest

from tests.workshop.test_settings import PRODUCTION_ENV, run_django

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": [
        "'self'",
        "https://checkout.stripe.com",
        "https://github.com",
        "https://orcid.org",
    ],
    "frame-ancestors": ["'none'"],
}

# Requests the site as a browser would, over HTTPS and plain HTTP, and reports what came back.
PRODUCTION_REQUESTS = """
import json
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

call_command("migrate", verbosity=0)
user = get_user_model().objects.create_user("ada", "ada@example.org", "correct horse battery")
EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


def cookie(response, name):
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
            "samesite": morsel["samesite"]}


# Without collectstatic there is no manifest; plain storage stands in for the hashed one.
plain = "django.contrib.staticfiles.storage.StaticFilesStorage"
plain_storage = {**settings.STORAGES, "staticfiles": {"BACKEND": plain}}
with override_settings(STORAGES=plain_storage):
    client = Client(HTTP_HOST="workshop.example.org")
    insecure = client.get("/")
    home = client.get("/", secure=True)
    login_page = client.get("/accounts/login/", secure=True)
    signed_in = client.post(
        "/accounts/login/", {"login": "ada@example.org", "password": "correct horse battery"},
        secure=True,
    )
print(json.dumps({
    "insecure": [insecure.status_code, insecure.get("Location")],
    "home_status": home.status_code,
    "home": dict(home.headers),
    "login": dict(login_page.headers),
    "csrf_cookie": cookie(login_page, settings.CSRF_COOKIE_NAME),
    "signed_in_status": signed_in.status_code,
    "session_cookie": cookie(signed_in, settings.SESSION_COOKIE_NAME),
}))
"""


PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def parse_policy(header):
    """Return a policy header as {directive: [sources]}."""
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    database = tmp_path_factory.mktemp("production") / "db.sqlite3"
    result = run_django(
        PRODUCTION_REQUESTS, **{**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{database}"}
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_plain_http_to_https(production):
    assert production["insecure"] == [301, "https://workshop.example.org/"]


def test_production_sends_hsts_for_a_year_with_subdomains_and_preload(production):
    assert production["home_status"] == 200
    assert production["home"]["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
    ],
)
def test_production_sends_security_header(production, header, value):
    assert production["home"][header] == value
    assert production["login"][header] == value


def test_production_sends_strict_content_security_policy(production):
    assert parse_policy(production["home"]["Content-Security-Policy"]) == EXPECTED_POLICY
    assert parse_policy(production["login"]["Content-Security-Policy"]) == EXPECTED_POLICY
    assert "Content-Security-Policy-Report-Only" not in production["home"]


def test_production_session_cookie_is_secure_and_httponly(production):
    assert production["signed_in_status"] == 302
    assert production["session_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


def test_production_csrf_cookie_is_secure_and_httponly(production):
    assert production["csrf_cookie"] == {"secure": True, "httponly": True, "samesite": "Lax"}


def test_production_requires_staff_mfa_by_default():
    result = run_django("print(settings.REQUIRE_STAFF_MFA)", **PRODUCTION_ENV)

    assert result.stdout.strip() == "True"


def test_production_staff_mfa_can_be_turned_off_explicitly():
    result = run_django(
        "print(settings.REQUIRE_STAFF_MFA)", **PRODUCTION_ENV, REQUIRE_STAFF_MFA="0"
    )

    assert result.stdout.strip() == "False"


def test_development_does_not_require_staff_mfa():
    result = run_django("print(settings.REQUIRE_STAFF_MFA, settings.CSRF_COOKIE_HTTPONLY)")

    assert result.stdout.split() == ["False", "False"]


def test_extra_form_targets_come_from_environment():
    result = run_django(
        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'][-1])",
        CSP_EXTRA_FORM_ACTION="http://127.0.0.1:9999",
    )

    assert result.stdout.strip() == "http://127.0.0.1:9999"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/no-such-page/"])
def test_every_response_carries_the_policy_in_development(client, workshop, path):
    response = client.get(path)

    assert parse_policy(response["Content-Security-Policy"]) == EXPECTED_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY


@pytest.mark.django_db
def test_stored_pages_and_static_files_carry_the_permissions_policy(
    client, workshop, django_assert_num_queries
):
    first = client.get("/talks/")
    with django_assert_num_queries(0):  # served from the page cache
        stored = client.get("/talks/")
    static = client.get("/static/css/site.css")

    assert (first.status_code, stored.status_code, static.status_code) == (200, 200, 200)
    assert [r["Permissions-Policy"] for r in (first, stored, static)] == [PERMISSIONS_POLICY] * 3


def test_production_reads_client_address_behind_one_proxy():
    production = run_django("print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)", **PRODUCTION_ENV)
    development = run_django("print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)")

    assert production.stdout.strip() == "1"
    assert development.stdout.strip() == "0"
