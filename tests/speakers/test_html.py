"""Every speakers and account page, in its states, is valid HTML (Nu HTML Checker, one JVM run)."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from speakers import services
from speakers.models import Invitation
from tests.browser import checkers
from tests.factories import SpeakerFactory, TalkFactory
from tests.speakers.conftest import verified_user

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


def fetch(client, path, method="get", **data):
    response = getattr(client, method)(path, data, follow=True)
    return response.content.decode()


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_speakers_and_account_pages_are_valid_html(workshop):
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    owner = verified_user(username="ada", email="ada@example.org")
    ada = SpeakerFactory(
        slug="ada", user=owner, bio="# Heading\n\n<b>x</b>", website="https://e.org"
    )
    TalkFactory(speakers=[ada])
    SpeakerFactory(slug="bob")
    expired, expired_token = services.invite_speaker(
        speaker=SpeakerFactory(slug="cy"), email="cy@example.org"
    )
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    _open, token = services.invite_speaker(
        speaker=SpeakerFactory(slug="di", name="Di"), email="di@example.org"
    )
    anonymous, ada_client = Client(), signed_in(owner)
    stranger = signed_in(verified_user(username="eve", email="eve@example.org"))

    documents = {
        "list": fetch(anonymous, "/speakers/"),
        "detail": fetch(anonymous, "/speakers/ada/"),
        "detail-own": fetch(ada_client, "/speakers/ada/"),
        "my-profile": fetch(ada_client, "/speakers/me/"),
        "my-profile-errors": fetch(
            ada_client, "/speakers/me/", "post", name="", orcid="0000-0002-1825-0098"
        ),
        "my-profile-preview": fetch(ada_client, "/speakers/me/", "post", name="Ada", preview="1"),
        "no-profile": fetch(stranger, "/speakers/me/"),
        "invitation-forged": fetch(anonymous, "/speakers/invitation/forged/"),
        "invitation-expired": fetch(anonymous, f"/speakers/invitation/{expired_token}/"),
        "invitation-welcome": fetch(Client(), f"/speakers/invitation/{token}/"),
        "invitation-confirm": fetch(stranger, f"/speakers/invitation/{token}/"),
        "login-errors": fetch(anonymous, "/accounts/login/", "post", login="x", password="y"),
        "signup-errors": fetch(anonymous, "/accounts/signup/", "post", email="x"),
        "password-reset": fetch(anonymous, "/accounts/password/reset/"),
        "password-reset-done": fetch(anonymous, "/accounts/password/reset/done/"),
        "password-reset-bad-key": fetch(anonymous, "/accounts/password/reset/key/1-x/"),
        "confirm-email-bad-key": fetch(anonymous, "/accounts/confirm-email/x/"),
        "verification-sent": fetch(anonymous, "/accounts/confirm-email/"),
        "inactive": fetch(anonymous, "/accounts/inactive/"),
        "email": fetch(ada_client, "/accounts/email/"),
        "email-change-pending": fetch(
            ada_client, "/accounts/email/", "post", action_add="", email="ada2@example.org"
        ),
        "password-change": fetch(ada_client, "/accounts/password/change/"),
        "connections": fetch(ada_client, "/accounts/3rdparty/"),
        "logout": fetch(ada_client, "/accounts/logout/"),
    }

    headings = {name: html.split("<h1>")[1].split("</h1>")[0] for name, html in documents.items()}
    assert headings["my-profile-preview"] == "My speaker profile"
    assert '<h2 id="preview-heading">' in documents["my-profile-preview"]
    assert "Please correct the fields marked below." in documents["my-profile-errors"]
    assert headings["invitation-expired"] == "Invitation expired"
    assert headings["invitation-welcome"] == "Welcome, Di"
    assert headings["invitation-confirm"] == "Take over your speaker profile"
    assert "Changing to <strong>ada2@example.org</strong>" in documents["email-change-pending"]

    messages = checkers.validate_html(documents)

    problems = {
        name: checkers.describe_html_messages(checkers.html_errors(found))
        for name, found in messages.items()
        if checkers.html_errors(found)
    }
    assert problems == {}
