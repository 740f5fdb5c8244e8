import re

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core import mail

from tests.speakers.conftest import PASSWORD, verified_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a much longer new passphrase"


def mailed_path(message):
    return re.search(r"http://testserver(/accounts/\S+/)", message.body)[1]


def test_sign_up_sends_verification_and_link_confirms_and_signs_in(client, workshop):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert (response.status_code, response.url) == (302, "/accounts/confirm-email/")
    sent = client.get(response.url).content.decode()
    assert "<h1>Confirm your e-mail address</h1>" in sent
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.org"]
    body = mail.outbox[0].body
    assert body.startswith(
        "Hello from Real-world Perspectives in Machine Learning for Science!\n\n"
        "Someone, probably you, gave this e-mail address for an account on our site."
    )
    assert "example.com" not in body
    assert " user " not in body
    confirm_path = mailed_path(mail.outbox[0])
    assert confirm_path.startswith("/accounts/confirm-email/")
    page = client.get(confirm_path).content.decode()
    assert "Please confirm that <strong>new@example.org</strong> is your e-mail address." in page

    confirmed = client.post(confirm_path)

    assert confirmed.status_code == 302
    user = get_user_model().objects.get(email="new@example.org")
    assert EmailAddress.objects.get(user=user).verified is True
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_refused_until_address_verified(client, workshop):
    get_user_model().objects.create_user("u", "unverified@example.org", PASSWORD)
    EmailAddress.objects.create(
        user=get_user_model().objects.get(), email="unverified@example.org", primary=True
    )

    response = client.post(
        "/accounts/login/", {"login": "unverified@example.org", "password": PASSWORD}
    )

    assert (response.status_code, response.url) == (302, "/accounts/confirm-email/")
    assert "_auth_user_id" not in client.session


def test_sign_up_with_taken_address_handled_the_allauth_way(client, workshop):
    verified_user(username="ada", email="ada@example.org")

    response = client.post(
        "/accounts/signup/",
        {"email": "ada@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    # allauth does not reveal that the address is taken: it mails its owner instead.
    assert (response.status_code, response.url) == (302, "/accounts/confirm-email/")
    assert get_user_model().objects.filter(email="ada@example.org").count() == 1
    assert mail.outbox[0].to == ["ada@example.org"]


def test_sign_up_errors_shown_next_to_fields_with_email_kept(client, workshop):
    response = client.post(
        "/accounts/signup/", {"email": "new@example.org", "password1": "x", "password2": "y"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="new@example.org"' in html
    assert (
        '<ul class="errorlist" id="id_password1_error"><li>This password is too short. '
        "It must contain at least 8 characters.</li><li>This password is too common.</li></ul>"
    ) in html


def test_password_reset_by_mailed_link(client, workshop):
    user = verified_user(username="ada", email="ada@example.org")

    requested = client.post("/accounts/password/reset/", {"email": "ada@example.org"})
    done = client.get(requested.url).content.decode()
    key_page = client.get(mailed_path(mail.outbox[0]), follow=True)
    changed = client.post(
        key_page.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )

    assert requested.url == "/accounts/password/reset/done/"
    assert "username" not in mail.outbox[0].body
    assert "asked to reset the password of the account with this e-mail address" in (
        mail.outbox[0].body
    )
    assert "<h1>Check your e-mail</h1>" in done
    assert "<h1>Choose a new password</h1>" in key_page.content.decode()
    assert (changed.status_code, changed.url) == (302, "/accounts/password/reset/key/done/")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_reset_with_bad_key_says_so(client, workshop):
    response = client.get("/accounts/password/reset/key/1-bad-key/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Reset link not valid</h1>" in html


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/login/", "<h1>Sign in</h1>"),
        ("/accounts/signup/", "<h1>Sign up</h1>"),
        ("/accounts/password/reset/", "<h1>Reset your password</h1>"),
        ("/accounts/confirm-email/bad-key/", "<h1>Confirm your e-mail address</h1>"),
        ("/accounts/inactive/", "<h1>Account inactive</h1>"),
    ],
)
def test_account_pages_use_site_layout_and_label_fields(client, workshop, path, heading):
    html = client.get(path).content.decode()

    assert heading in html
    assert '<a class="skip-link" href="#content">Skip to content</a>' in html
    assert "username" not in html.lower()
    for field_id in re.findall(r'<input [^>]*id="(id_[^"]+)"', html):
        if 'type="hidden"' not in html.split(f'id="{field_id}"')[0].rsplit("<input", 1)[1]:
            assert f'<label for="{field_id}">' in html


def test_login_page_labels(client, workshop):
    html = client.get("/accounts/login/").content.decode()

    assert '<label for="id_login">Email:</label>' in html
    assert '<label for="id_password">Password:</label>' in html
    assert "Or sign in with" not in html


def test_login_page_offers_configured_providers(client, workshop):
    app = SocialApp.objects.create(provider="orcid", name="ORCID", client_id="id", secret="s")
    app.sites.add(Site.objects.get_current())

    html = client.get("/accounts/login/").content.decode()

    assert '<h2 id="social-heading">Or sign in with</h2>' in html
    assert 'href="/accounts/orcid/login/?process=login">Orcid.org</a>' in html


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/email/", "<h1>E-mail address</h1>"),
        ("/accounts/password/change/", "<h1>Change your password</h1>"),
        ("/accounts/logout/", "<h1>Sign out</h1>"),
        ("/accounts/3rdparty/", "<h1>Connected accounts</h1>"),
    ],
)
def test_signed_in_account_pages_use_site_layout(client, workshop, path, heading):
    client.force_login(verified_user(username="ada", email="ada@example.org"))

    response = client.get(path)

    assert response.status_code == 200
    assert heading in response.content.decode()


def test_change_email_mails_new_address_and_keeps_old_until_confirmed(client, workshop):
    user = verified_user(username="ada", email="ada@example.org")
    client.force_login(user)

    response = client.post("/accounts/email/", {"action_add": "", "email": "ada@new.example.org"})
    page = client.get("/accounts/email/").content.decode()

    assert response.status_code == 302
    assert mail.outbox[-1].to == ["ada@new.example.org"]
    assert "Changing to <strong>ada@new.example.org</strong>" in page
    assert "You sign in with <strong>ada@example.org</strong> (verified)." in page


def test_sign_in_message_names_email_not_user_name(client, workshop):
    verified_user(username="generated-name", email="ada@example.org")

    response = client.post(
        "/accounts/login/", {"login": "ada@example.org", "password": PASSWORD}, follow=True
    )

    html = response.content.decode()
    assert "Successfully signed in as ada@example.org." in html
    assert "generated-name" not in html
