"""Staff need a second factor before the back office; allauth's sign-in asks for it."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from tests.security.conftest import PASSWORD, sign_in, totp_code, verified_user

pytestmark = pytest.mark.django_db

MFA_INDEX = "/accounts/2fa/"


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/workshop/page/", "/organisers/", "/organisers/x/"]
)
def test_staff_without_mfa_is_sent_to_mfa_setup(client, require_mfa, staff, path):
    client.force_login(staff)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == MFA_INDEX


def test_staff_without_mfa_sees_why_on_the_setup_page(client, require_mfa, staff):
    client.force_login(staff)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain == [(MFA_INDEX, 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Organiser accounts need two-factor authentication. Set up an authenticator app or a "
        "security key to continue."
    ]


def test_staff_with_totp_reaches_admin(client, require_mfa, staff_with_totp):
    client.force_login(staff_with_totp)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert "Site administration" in response.content.decode()


def test_staff_with_security_key_reaches_admin(client, require_mfa, staff):
    Authenticator.objects.create(user=staff, type=Authenticator.Type.WEBAUTHN, data={})
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 200


def test_recovery_codes_alone_are_not_a_second_factor(client, require_mfa, staff):
    RecoveryCodes.activate(staff)
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == MFA_INDEX


def test_non_staff_is_not_sent_to_mfa_setup(client, require_mfa):
    user = verified_user(username="attendee")
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_setting_off_lets_staff_without_mfa_in(client, settings, staff):
    settings.REQUIRE_STAFF_MFA = False
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 200


@pytest.mark.parametrize("path", [MFA_INDEX, "/accounts/logout/", "/", "/static/css/site.css"])
def test_mfa_pages_logout_and_site_stay_open(client, require_mfa, staff, workshop, path):
    client.force_login(staff)

    response = client.get(path)

    assert response.status_code == 200


def test_admin_logout_stays_open(client, require_mfa, staff):
    client.force_login(staff)

    response = client.post("/admin/logout/")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_admin_login_goes_to_allauth_login_when_mfa_required(client, require_mfa):
    response = client.get("/admin/login/?next=/admin/workshop/page/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fworkshop%2Fpage%2F"


def test_admin_login_post_cannot_skip_the_second_factor(client, require_mfa, staff_with_totp):
    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert "_auth_user_id" not in client.session


def test_admin_login_is_django_own_when_mfa_not_required(client, settings):
    settings.REQUIRE_STAFF_MFA = False

    response = client.get("/admin/login/")

    assert response.status_code == 200


def test_full_sign_in_with_totp_reaches_admin(client, require_mfa, staff_with_totp, totp_secret):
    start = client.get("/admin/")
    login = client.get(start["Location"])
    assert login["Location"] == "/accounts/login/?next=%2Fadmin%2F"

    password_step = client.post(
        "/accounts/login/?next=%2Fadmin%2F",
        {"login": "staffer@example.org", "password": PASSWORD, "next": "/admin/"},
    )
    assert password_step.status_code == 302
    assert password_step["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session

    code_step = client.post("/accounts/2fa/authenticate/", {"code": totp_code(totp_secret)})
    admin = client.get("/admin/")

    assert code_step.status_code == 302
    assert code_step["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(staff_with_totp.pk)
    assert admin.status_code == 200


def test_sign_in_with_wrong_code_is_refused(client, require_mfa, staff_with_totp, totp_secret):
    sign_in(client, staff_with_totp)
    wrong = "000000" if totp_code(totp_secret) != "000000" else "111111"

    response = client.post("/accounts/2fa/authenticate/", {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_staff_sets_up_totp_then_reaches_admin(client, require_mfa, staff):
    sign_in(client, staff)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    form = client.get("/accounts/2fa/totp/activate/")
    secret = form.context["form"].secret

    activated = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)})
    admin = client.get("/admin/")

    assert activated.status_code == 302
    assert activated["Location"] == "/accounts/2fa/recovery-codes/"
    assert list(
        Authenticator.objects.filter(user=staff).values_list("type", flat=True).order_by("type")
    ) == [
        "recovery_codes",
        "totp",
    ]
    assert admin.status_code == 200
