"""Messages from the organisers to attendees: recipients, test sends, sending and retries.

Sending freezes the recipients as one ``MessageDelivery`` row each and queues one e-mail each
in the outgoing mail log (workshop/mail.py), in the same transaction: the worker delivers
them, retries them with backoff and records the mail server's answer. A delivery's state is
its e-mail's state, so organisers see "queued" until the server has accepted it. The
message row's lock and the e-mails' dedupe keys mean that a double click or a second run
queues nothing twice.
"""

import enum
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from tickets.models import AttendeeMessage, MessageDelivery, Ticket
from workshop import mail
from workshop.markdown import render_markdown
from workshop.models import OutgoingEmail

State = OutgoingEmail.State


class MessageError(Exception):
    """A reason, in words for the organiser, why a message cannot be sent."""


class AlreadySent(MessageError):
    """The message left the draft state before: sending it again would send twice."""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


def find_recipients(*, workshop, ticket_types=()):
    """Return one recipient per e-mail address (any case) holding a paid ticket of the workshop.

    With ``ticket_types``, only holders of those types count. The first ticket sold
    gives the name used for an address.
    """
    tickets = Ticket.objects.admitting().filter(order__workshop=workshop).exclude(attendee_email="")
    if ticket_types:
        tickets = tickets.filter(ticket_type__in=list(ticket_types))
    recipients = {}
    for email, name in tickets.order_by("id").values_list("attendee_email", "attendee_name"):
        email = email.strip()
        recipients.setdefault(email.lower(), Recipient(email=email, name=" ".join(name.split())))
    return sorted(recipients.values(), key=lambda r: (r.name.lower(), r.email.lower()))


def recipients_of(message):
    """Return who would receive the draft ``message`` if it were sent now."""
    return find_recipients(workshop=message.workshop, ticket_types=list(message.ticket_types.all()))


def save_draft(*, workshop, subject, body, ticket_types, author, message=None):
    """Create or update a draft message; a message already sent cannot change."""
    with transaction.atomic():
        if message is None:
            message = AttendeeMessage(workshop=workshop, created_by=author)
        else:
            message = AttendeeMessage.objects.select_for_update().get(pk=message.pk)
            if message.status != AttendeeMessage.Status.DRAFT:
                raise AlreadySent("This message has been sent and can no longer be changed.")
        message.subject = subject
        message.body = body
        message.save()
        message.ticket_types.set(ticket_types)
    return message


def build_email(*, message, email, name="", subject_prefix=""):
    """Return the e-mail of ``message`` for one address: the Markdown as text, rendered as HTML."""
    return email_builder(message, subject_prefix=subject_prefix)(email, name)


def email_builder(message, *, subject_prefix=""):
    """Return a function of (email, name) giving the message's e-mail for that address.

    The text and HTML parts are rendered once; only the address changes per recipient.
    """
    context = {
        "message": message,
        "workshop": message.workshop,
        "body_html": render_markdown(message.body),
        "site_url": settings.SITE_URL,
    }
    text = render_to_string("tickets/messages/email.txt", context)
    html = render_to_string("tickets/messages/email.html", context)

    def build(email, name=""):
        mail = EmailMultiAlternatives(
            subject=subject_prefix + message.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email_address(email, name)],
        )
        mail.attach_alternative(html, "text/html")
        return mail

    return build


def email_address(email, name):
    # A quoted display name keeps commas and quotes in attendee names from splitting the address.
    if not name:
        return email
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{email}>'


def send_test(*, message, user):
    """Queue ``message`` for the organiser ``user`` only; it is not recorded as a delivery."""
    if not user.email:
        raise MessageError("Your account has no e-mail address to send a test to.")
    build_email(message=message, email=user.email, subject_prefix="[Test] ").send()
    return user.email


def send_message(*, message, expected_count=None):
    """Freeze the recipients of the draft ``message`` and queue its e-mail to each of them.

    Refuses a message without recipients, one whose recipients changed since the organiser
    saw ``expected_count`` of them, and any message that is no longer a draft. Return how
    many e-mails were queued.
    """
    with transaction.atomic():
        message = AttendeeMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != AttendeeMessage.Status.DRAFT:
            raise AlreadySent("This message has already been sent; nothing was sent again.")
        recipients = recipients_of(message)
        if not recipients:
            raise MessageError(
                "No one would receive this message: no paid tickets match. Nothing was sent."
            )
        if expected_count is not None and expected_count != len(recipients):
            raise MessageError(
                f"The recipients changed since the preview: {len(recipients)} now instead of "
                f"{expected_count}. Check the list and send again. Nothing was sent."
            )
        deliveries = MessageDelivery.objects.bulk_create(
            MessageDelivery(message=message, email=r.email, name=r.name) for r in recipients
        )
        queue_emails(message, deliveries)
        message.status = AttendeeMessage.Status.SENT
        message.sent_at = timezone.now()
        message.save(update_fields=["status", "sent_at"])
    return len(deliveries)


def queue_emails(message, deliveries):
    """Queue the e-mail of each delivery once and link it to the delivery.

    Each e-mail's dedupe key names its delivery, so queuing a delivery again (a second run of
    the same work) finds the e-mail queued the first time instead of adding one.
    """
    build = email_builder(message)
    for delivery in deliveries:
        key = f"message-delivery:{delivery.pk}"
        email = build(delivery.email, delivery.name)
        delivery.outgoing_email = mail.queue_email(email, key=key) or (
            OutgoingEmail.objects.get(dedupe_key=key)
        )
    MessageDelivery.objects.bulk_update(deliveries, ["outgoing_email"], batch_size=500)


def retry_failed(*, message):
    """Queue the failed e-mails of ``message`` for a new round of attempts; return how many."""
    if message.status == AttendeeMessage.Status.DRAFT:
        raise MessageError("This message has not been sent yet.")
    failed = message.deliveries.filter(outgoing_email__state=State.FAILED)
    email_ids = list(failed.values_list("outgoing_email_id", flat=True))
    return sum(mail.retry_email(email_id=email_id) for email_id in email_ids)


class Progress(enum.Enum):
    """How far the e-mails of a sent message got, in words for the organiser."""

    DELIVERING = "Being delivered"
    DELIVERED = "Delivered"
    PARTLY_FAILED = "Partly failed"
    FAILED = "Failed"


@dataclass(frozen=True)
class Totals:
    """How many e-mails of a message are queued, sent (accepted by the server) and failed."""

    queued: int
    sent: int
    failed: int

    @classmethod
    def of(cls, deliveries):
        states = [delivery.state for delivery in deliveries]
        return cls(
            queued=sum(state in (State.QUEUED, State.SENDING) for state in states),
            sent=states.count(State.SENT),
            failed=states.count(State.FAILED),
        )

    @property
    def recipients(self):
        return self.queued + self.sent + self.failed

    @property
    def progress(self):
        if self.queued:
            return Progress.DELIVERING
        if self.failed:
            return Progress.PARTLY_FAILED if self.sent else Progress.FAILED
        return Progress.DELIVERED
