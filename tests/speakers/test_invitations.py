import datetime as dt
import hashlib
import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from speakers import services
from speakers.adapter import INVITATION_SESSION_KEY
from speakers.models import Invitation
from tests.factories import SpeakerFactory
from tests.speakers.conftest import PASSWORD, verified_user
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db


def link_path(message):
    return re.search(r"http://127\.0\.0\.1:8000(/speakers/invitation/[\w-]+/)", message.body)[1]


def test_invite_speaker_stores_only_token_hash_and_mails_link(invited):
    invitation, token = invited

    assert len(token) == 43
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert invitation.expires_at - invitation.sent_at == dt.timedelta(days=14)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["grace@example.org"]
    assert message.subject == (
        "Your speaker profile for Real-world Perspectives in Machine Learning for Science"
    )
    assert link_path(message) == f"/speakers/invitation/{token}/"
    assert "The link works once and for 14 days." in message.body


def test_invite_speaker_sends_nothing_when_transaction_rolls_back(workshop, settings):
    # The database task backend, as in production: the e-mail is a row of this transaction.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    speaker = SpeakerFactory()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.invite_speaker(speaker=speaker, email="x@example.org")
        raise RuntimeError("something after the invitation failed")

    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


def test_invite_speaker_again_withdraws_earlier_open_invitation(invited):
    invitation, old_token = invited

    services.invite_speaker(speaker=invitation.speaker, email="grace@example.org")

    invitation.refresh_from_db()
    assert invitation.status() == Invitation.Status.WITHDRAWN


def test_signed_in_user_claims_profile_with_link(client, invited):
    invitation, token = invited
    user = verified_user(email="grace@example.org", username="grace")
    client.force_login(user)

    first = client.get(f"/speakers/invitation/{token}/")
    confirm = client.get("/speakers/invitation/")
    claimed = client.post("/speakers/invitation/")

    assert (first.status_code, first.url) == (302, "/speakers/invitation/")
    assert "Link the speaker profile of <strong>Grace Okafor</strong>" in confirm.content.decode()
    assert (claimed.status_code, claimed.url) == (302, "/speakers/me/")
    invitation.refresh_from_db()
    assert invitation.speaker.user == user
    assert (invitation.claimed_by, invitation.status()) == (user, Invitation.Status.CLAIMED)
    assert INVITATION_SESSION_KEY not in client.session


def test_signed_out_person_signs_up_with_invited_address_and_claims(client, invited):
    invitation, token = invited

    client.get(f"/speakers/invitation/{token}/")
    welcome = client.get("/speakers/invitation/")
    signup = client.post(
        "/accounts/signup/?next=/speakers/invitation/",
        {"email": "grace@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    claimed = client.post("/speakers/invitation/")

    assert (
        '<a class="button" href="/accounts/signup/?next=%2Fspeakers%2Finvitation%2F">Sign up</a>'
        in welcome.content.decode()
    )
    assert (signup.status_code, signup.url) == (302, "/speakers/invitation/")
    user = get_user_model().objects.get(email="grace@example.org")
    # Holding the invitation link proves the address: no verification mail is needed.
    assert EmailAddress.objects.get(user=user).verified is True
    assert len(mail.outbox) == 1
    assert (claimed.status_code, claimed.url) == (302, "/speakers/me/")
    invitation.speaker.refresh_from_db()
    assert invitation.speaker.user == user


def test_signed_out_person_signs_in_and_is_sent_back_to_claim(client, invited):
    invitation, token = invited
    user = verified_user(email="grace.o@example.org", username="grace")

    client.get(f"/speakers/invitation/{token}/")
    login = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    confirm = client.get(login.url)
    client.post("/speakers/invitation/")

    assert (login.status_code, login.url) == (302, "/speakers/invitation/")
    assert confirm.status_code == 200
    invitation.refresh_from_db()
    assert invitation.claimed_by == user


def test_claim_marks_matching_unverified_address_verified(client, invited):
    _invitation, token = invited
    user = get_user_model().objects.create_user("grace", "grace@example.org", PASSWORD)
    EmailAddress.objects.create(user=user, email="Grace@example.org", verified=False, primary=True)
    client.force_login(user)

    client.get(f"/speakers/invitation/{token}/")
    client.post("/speakers/invitation/")

    assert EmailAddress.objects.get(user=user).verified is True


def test_forged_token_gets_not_found_page(client, invited):
    response = client.get("/speakers/invitation/not-a-real-token-abcdefghijklmnopqrstuvwxyz01/")

    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Invitation not found</h1>" in html
    assert "This invitation link is not valid." in html


def test_overlong_token_gets_not_found_page(client, invited):
    assert client.get(f"/speakers/invitation/{'a' * 5000}/").status_code == 404


def test_expired_invitation_gets_gone_page(client, invited):
    invitation, token = invited
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    response = client.get(f"/speakers/invitation/{token}/")

    assert response.status_code == 410
    assert "<h1>Invitation expired</h1>" in response.content.decode()


def test_used_invitation_gets_gone_page(client, invited):
    invitation, token = invited
    first = verified_user(username="first")
    services.claim_invitation(token=token, user=first)
    client.force_login(verified_user(username="second"))

    response = client.get(f"/speakers/invitation/{token}/")

    assert response.status_code == 410
    assert "<h1>Invitation already used</h1>" in response.content.decode()
    invitation.speaker.refresh_from_db()
    assert invitation.speaker.user == first


def test_withdrawn_invitation_gets_gone_page(client, invited):
    invitation, token = invited
    services.withdraw_invitation(invitation=invitation)

    response = client.get(f"/speakers/invitation/{token}/")

    assert response.status_code == 410
    assert "<h1>Invitation withdrawn</h1>" in response.content.decode()


def test_invitation_withdrawn_between_visit_and_claim_is_refused(client, invited):
    invitation, token = invited
    client.force_login(verified_user(username="grace"))
    client.get(f"/speakers/invitation/{token}/")
    services.withdraw_invitation(invitation=invitation)

    response = client.post("/speakers/invitation/")

    assert response.status_code == 410
    invitation.speaker.refresh_from_db()
    assert invitation.speaker.user is None


def test_pending_page_without_invitation_is_not_found(client, workshop):
    response = client.get("/speakers/invitation/")

    assert response.status_code == 404
    assert "<h1>Invitation not found</h1>" in response.content.decode()


def test_claim_refused_when_profile_belongs_to_someone_else(invited):
    invitation, token = invited
    invitation.speaker.user = verified_user(username="owner")
    invitation.speaker.save()

    with pytest.raises(services.InvitationError) as error:
        services.claim_invitation(token=token, user=verified_user(username="other"))

    assert (error.value.status_code, error.value.reason) == (409, "taken")


def test_claim_refused_when_user_already_has_another_profile(invited):
    _invitation, token = invited
    user = verified_user(username="other")
    SpeakerFactory(user=user)

    with pytest.raises(services.InvitationError) as error:
        services.claim_invitation(token=token, user=user)

    assert error.value.message == "Your account already has a different speaker profile."


def test_resend_rotates_token_and_old_link_stops_working(
    client, invited, django_capture_on_commit_callbacks
):
    invitation, old_token = invited

    with django_capture_on_commit_callbacks(execute=True):
        invitation, new_token = services.resend_invitation(invitation=invitation)

    assert new_token != old_token
    assert invitation.send_count == 2
    assert link_path(mail.outbox[-1]) == f"/speakers/invitation/{new_token}/"
    assert client.get(f"/speakers/invitation/{old_token}/").status_code == 404
    assert client.get(f"/speakers/invitation/{new_token}/").status_code == 302


def test_resend_of_claimed_invitation_is_refused(invited):
    invitation, token = invited
    services.claim_invitation(token=token, user=verified_user(username="grace"))

    with pytest.raises(services.InvitationError) as error:
        services.resend_invitation(invitation=invitation)

    assert error.value.reason == "claimed"


def test_invite_speaker_with_account_is_refused(workshop):
    speaker = SpeakerFactory(user=verified_user(username="owner"))

    with pytest.raises(services.InvitationError) as error:
        services.invite_speaker(speaker=speaker, email="x@example.org")

    assert error.value.reason == "taken"


def test_sign_up_with_other_address_verifies_it_then_returns_to_claim(client, invited):
    invitation, token = invited
    client.get(f"/speakers/invitation/{token}/")

    signup = client.post(
        "/accounts/signup/?next=/speakers/invitation/",
        {"email": "grace.private@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    confirm_path = re.search(
        r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[-1].body
    )[1]
    confirmed = client.post(confirm_path)
    claimed = client.post("/speakers/invitation/")

    assert signup.url == "/accounts/confirm-email/"
    assert mail.outbox[-1].to == ["grace.private@example.org"]
    assert (confirmed.status_code, confirmed.url) == (302, "/speakers/invitation/")
    assert claimed.url == "/speakers/me/"
    invitation.speaker.refresh_from_db()
    assert invitation.speaker.user.email == "grace.private@example.org"
