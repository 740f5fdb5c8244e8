"""The page of e-mails not delivered and its "retry" action."""

import pytest
from django.core import mail
from django.core.mail import send_mail

from tests.factories import OrganiserFactory
from tests.security.html_checks import duplicate_ids, inline_code
from tests.smtp import free_port, smtp_settings
from workshop import roles
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

PAGE = "/organisers/emails/failed/"
RETRY = "/organisers/emails/retry/"
State = OutgoingEmail.State


@pytest.fixture
def failed(settings):
    """Two e-mails refused by a mail server that is down, then given up."""
    delivery = settings.EMAIL_DELIVERY_BACKEND
    for name, value in smtp_settings(free_port()).items():
        setattr(settings, name, value)
    settings.EMAIL_MAX_ATTEMPTS = 1
    send_mail("Your tickets", "Body", None, ["ada@example.org"])
    send_mail("Order links", "Body", None, ["bob@example.org"])
    settings.EMAIL_DELIVERY_BACKEND = delivery  # the server is back (locmem)
    return list(OutgoingEmail.objects.order_by("id"))


def test_page_lists_failed_emails_with_the_servers_answer(organiser_client, workshop, failed):
    response = organiser_client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert '<th scope="row">Your tickets</th>' in html
    assert "<td>ada@example.org</td>" in html
    assert "ConnectionRefusedError" in html
    assert f'name="email" value="{failed[0].pk}"' in html
    assert "Retry all 2" in html
    assert inline_code(html) == []
    assert duplicate_ids(html) == []


def test_retry_one_sends_it_and_leaves_the_other(organiser_client, workshop, failed):
    response = organiser_client.post(RETRY, {"email": failed[0].pk}, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "1 e-mail queued again." in response.content.decode()
    assert [m.subject for m in mail.outbox] == ["Your tickets"]
    states = list(OutgoingEmail.objects.order_by("id").values_list("state", flat=True))
    assert states == [State.SENT, State.FAILED]


def test_retry_all(organiser_client, workshop, failed):
    response = organiser_client.post(RETRY, {"all": "1"}, follow=True)

    assert "2 e-mails queued again." in response.content.decode()
    assert sorted(m.subject for m in mail.outbox) == ["Order links", "Your tickets"]
    assert not OutgoingEmail.objects.failed().exists()


@pytest.mark.parametrize("value", ["", "abc", "99999999", "9" * 30, "-1"])
def test_retry_of_nothing_says_so(organiser_client, workshop, failed, value):
    response = organiser_client.post(RETRY, {"email": value}, follow=True)

    assert response.status_code == 200
    assert "Nothing to retry" in response.content.decode()
    assert mail.outbox == []


def test_retry_of_a_sent_email_sends_nothing(organiser_client, workshop, failed):
    organiser_client.post(RETRY, {"email": failed[0].pk})
    organiser_client.post(RETRY, {"email": failed[0].pk})

    assert len(mail.outbox) == 1


def test_retry_is_post_only(organiser_client, workshop):
    assert organiser_client.get(RETRY).status_code == 405


def test_finance_may_not_see_or_retry(client, workshop, failed):
    client.force_login(OrganiserFactory(role=roles.FINANCE))

    assert client.get(PAGE).status_code == 403
    assert client.post(RETRY, {"all": "1"}).status_code == 403
    assert mail.outbox == []


def test_page_when_nothing_failed(organiser_client, workshop):
    html = organiser_client.get(PAGE).content.decode()

    assert "None: every e-mail has been delivered or is on its way." in html
    assert "Retry all" not in html
