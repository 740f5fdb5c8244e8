import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)

from tests.factories import UserFactory
from tests.speakers.conftest import invited  # noqa: F401 - a speaker invitation and its token

PASSWORD = "correct horse battery staple"


def totp_code(secret):
    """Return the code an authenticator app shows now, waiting out the last second of a period."""
    if 30 - time.time() % 30 < 2:
        time.sleep(2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def verified_user(**kwargs):
    """Return a user whose e-mail address allauth accepts for signing in."""
    user = UserFactory(**kwargs)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def sign_in(client, user):
    """Sign in through allauth's form, as a person does, so reauthentication is not asked."""
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()
    return response


@pytest.fixture
def require_mfa(settings):
    settings.REQUIRE_STAFF_MFA = True


@pytest.fixture
def staff(db):
    """A staff member without a second factor."""
    return verified_user(username="staffer", is_staff=True, is_superuser=True)


@pytest.fixture
def totp_secret():
    return generate_totp_secret()


@pytest.fixture
def staff_with_totp(staff, totp_secret):
    TOTP.activate(staff, totp_secret)
    return staff
