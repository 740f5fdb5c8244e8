"""The MFA pages use the site's layout, label every field and carry no inline code."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from tests.security.conftest import PASSWORD, sign_in
from tests.security.html_checks import duplicate_ids, inline_code, unlabelled_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed_client(client, staff, workshop):
    """Signed in and recently reauthenticated, as allauth wants before changing factors."""
    sign_in(client, staff)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    return client


def assert_clean_page(response, heading):
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{heading}</h1>" in html
    assert '<main id="content"' in html
    assert inline_code(html) == []
    assert unlabelled_fields(html) == []
    assert duplicate_ids(html) == []
    return html


def test_mfa_index_offers_app_and_security_key(confirmed_client):
    response = confirmed_client.get("/accounts/2fa/")

    html = assert_clean_page(response, "Two-factor authentication")
    assert 'href="/accounts/2fa/totp/activate/"' in html
    assert 'href="/accounts/2fa/webauthn/add/"' in html


def test_totp_activation_page_shows_qr_code_and_labels(confirmed_client):
    response = confirmed_client.get("/accounts/2fa/totp/activate/")

    html = assert_clean_page(response, "Set up an authenticator app")
    assert 'src="data:image/svg+xml;base64,' in html
    assert '<label for="id_code">Authenticator code:</label>' in html
    assert '<label for="authenticator_secret">Authenticator secret</label>' in html


def test_totp_activation_wrong_code_shows_error(confirmed_client):
    confirmed_client.get("/accounts/2fa/totp/activate/")

    response = confirmed_client.post("/accounts/2fa/totp/activate/", {"code": "12"})

    html = assert_clean_page(response, "Set up an authenticator app")
    assert "Incorrect code." in html
    assert not Authenticator.objects.exists()


def test_recovery_codes_page_lists_codes_in_labelled_field(confirmed_client, staff):
    Authenticator.objects.create(user=staff, type=Authenticator.Type.WEBAUTHN, data={})
    codes = RecoveryCodes.activate(staff).get_unused_codes()

    response = confirmed_client.get("/accounts/2fa/recovery-codes/")

    html = assert_clean_page(response, "Recovery codes")
    assert '<label for="recovery_codes">Unused codes</label>' in html
    assert "\n".join(codes) in html


def test_add_security_key_page_loads_scripts_from_files(confirmed_client):
    response = confirmed_client.get("/accounts/2fa/webauthn/add/")

    html = assert_clean_page(response, "Add a security key")
    assert '<script src="/static/mfa/js/webauthn.js" defer></script>' in html
    assert 'data-allauth-onload="allauth.webauthn.forms.addForm"' in html
    assert '<label for="id_name">Name:</label>' in html


def test_deactivate_totp_page(confirmed_client, staff, totp_secret):
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(staff, totp_secret)

    response = confirmed_client.get("/accounts/2fa/totp/deactivate/")

    assert_clean_page(response, "Deactivate the authenticator app")


def test_second_factor_page_during_sign_in(client, staff_with_totp, workshop):
    sign_in(client, staff_with_totp)

    response = client.get("/accounts/2fa/authenticate/")

    html = assert_clean_page(response, "Two-factor authentication")
    assert '<label for="id_code">Code:</label>' in html
    assert 'id="mfa_webauthn_authenticate"' in html
    assert 'form="logout-from-stage"' in html
