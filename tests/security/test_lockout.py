"""allauth's lockout after wrong passwords stays, and the ways the README gives to lift it work."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from tests.factories import UserFactory
from tests.security.conftest import PASSWORD, verified_user

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed login attempts. Try again later."


@pytest.fixture
def locked_out(client):
    """An account whose address had five wrong passwords in a row (allauth's 5 in 300 s)."""
    cache.clear()
    user = verified_user(username="ada", email="ada@example.org")
    for _ in range(5):
        client.post("/accounts/login/", {"login": "ada@example.org", "password": "wrong"})
    return user


def sign_in(client, login="ada@example.org", password=PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


def test_lockout_refuses_the_right_password_after_five_wrong_ones(client, locked_out):
    response = sign_in(client)

    assert response.status_code == 200
    assert LOCKED in response.content.decode()


def test_lockout_organiser_unlocks_from_the_user_list(client, locked_out):
    organiser = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(organiser)

    response = client.post(
        "/admin/auth/user/",
        {"action": "unlock_sign_in", "_selected_action": [locked_out.pk]},
        follow=True,
    )
    client.logout()
    signed_in = sign_in(client)

    assert "Unlocked sign-in of 1 account(s)." in response.content.decode()
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/"


def test_lockout_of_another_account_stays_after_an_unlock(client, locked_out):
    other = verified_user(username="bob", email="bob@example.org")
    for _ in range(5):
        client.post("/accounts/login/", {"login": "bob@example.org", "password": "wrong"})
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    client.post(
        "/admin/auth/user/", {"action": "unlock_sign_in", "_selected_action": [locked_out.pk]}
    )
    client.logout()

    assert LOCKED in sign_in(client, login=other.email).content.decode()


def test_lockout_lifted_by_resetting_the_password(client, locked_out):
    client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    form_page = client.get(link.group(1), follow=True)
    new_password = "a brand new long passphrase"

    client.post(
        form_page.redirect_chain[-1][0],
        {"password1": new_password, "password2": new_password},
    )
    signed_in = sign_in(client, password=new_password)

    assert signed_in.status_code == 302
