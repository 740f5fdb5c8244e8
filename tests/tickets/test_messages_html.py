"""Every organiser message page, in its states, is valid HTML (Nu HTML Checker, one JVM run)."""

import pytest

from tests.browser import checkers
from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tickets.services import messages as mailing
from workshop.models import OutgoingEmail

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


def fetch(client, path, method="get", **data):
    return getattr(client, method)(path, data, follow=True).content.decode()


def test_message_pages_are_valid_html(organiser_client, workshop, outbox):
    if reason := checkers.vnu_missing_reason():
        pytest.skip(reason)
    regular = TicketTypeFactory(workshop=workshop, name="Regular")
    TicketTypeFactory(workshop=workshop, name="Student")
    TicketFactory(order=OrderFactory(workshop=workshop), ticket_type=regular)
    body = "# Title\n\nText with <b>x</b> and a [link](https://e.org).\n\n- one\n- two"
    draft = mailing.save_draft(
        workshop=workshop, subject="Draft", body=body, ticket_types=[], author=None
    )
    sent = mailing.save_draft(
        workshop=workshop, subject="Sent", body=body, ticket_types=[regular], author=None
    )
    mailing.send_message(message=sent)
    OutgoingEmail.objects.filter(message_delivery__message=sent).update(
        state=OutgoingEmail.State.FAILED, last_error="451 Later"
    )
    queued = mailing.save_draft(
        workshop=workshop, subject="Queued", body=body, ticket_types=[], author=None
    )
    mailing.send_message(message=queued)
    OutgoingEmail.objects.filter(message_delivery__message=queued).update(
        state=OutgoingEmail.State.QUEUED, attempts=1, last_error="Connection refused"
    )
    empty = mailing.save_draft(
        workshop=workshop, subject="Nobody", body="x", ticket_types=[], author=None
    )
    empty.ticket_types.set([TicketTypeFactory(workshop=workshop, name="Unsold")])
    base = "/organisers/messages/"

    documents = {
        "list": fetch(organiser_client, base),
        "new": fetch(organiser_client, f"{base}new/"),
        "new-errors": fetch(organiser_client, f"{base}new/", "post", subject="", body=""),
        "edit": fetch(organiser_client, f"{base}{draft.pk}/edit/"),
        "preview": fetch(organiser_client, f"{base}{draft.pk}/preview/"),
        "preview-nobody": fetch(organiser_client, f"{base}{empty.pk}/preview/"),
        "detail-failed": fetch(organiser_client, f"{base}{sent.pk}/"),
        "detail-queued": fetch(organiser_client, f"{base}{queued.pk}/"),
        "email": mailing.build_email(message=sent, email="a@example.org").alternatives[0].content,
    }

    assert "Retry the 1 failed</button>" in documents["detail-failed"]
    assert "<td>Queued, next attempt" in documents["detail-queued"]
    assert "It cannot be sent." in documents["preview-nobody"]
    problems = {
        name: checkers.describe_html_messages(checkers.html_errors(found))
        for name, found in checkers.validate_html(documents).items()
        if checkers.html_errors(found)
    }
    assert problems == {}
