"""Messages from the organisers to attendees: recipients, test sends, sending and retries.

Sending freezes the recipients as one ``MessageDelivery`` row each, then sends the rows one
by one. A row is claimed (pending -> sending) in its own short transaction before its e-mail
goes out and marked sent or failed afterwards, so a double click, a second worker or the
``send_pending_messages`` command never sends the same row twice, and an SMTP failure costs
only the rows it touched: they are recorded with the server's answer and can be retried.
"""

import logging
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F
from django.template.loader import render_to_string
from django.utils import timezone

from tickets.models import AttendeeMessage, MessageDelivery, Order, Ticket
from workshop.markdown import render_markdown

logger = logging.getLogger(__name__)

Delivery = MessageDelivery.Status
MAX_ERROR_LENGTH = 1000
MAX_SERVER_FAILURES = 3


class MessageError(Exception):
    """A reason, in words for the organiser, why a message cannot be sent."""


class AlreadySent(MessageError):
    """The message left the draft state before: sending it again would send twice."""


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str


@dataclass(frozen=True)
class Outcome:
    sent: int
    failed: int
    waiting: int = 0


def find_recipients(*, workshop, ticket_types=()):
    """Return one recipient per e-mail address (any case) holding a paid ticket of the workshop.

    With ``ticket_types``, only holders of those types count. The first ticket sold
    gives the name used for an address.
    """
    tickets = Ticket.objects.filter(
        order__workshop=workshop, order__status__in=Order.PAID_STATUSES
    ).exclude(attendee_email="")
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
    context = {
        "message": message,
        "workshop": message.workshop,
        "body_html": render_markdown(message.body),
        "site_url": settings.SITE_URL,
    }
    mail = EmailMultiAlternatives(
        subject=subject_prefix + message.subject,
        body=render_to_string("tickets/messages/email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email_address(email, name)],
    )
    mail.attach_alternative(render_to_string("tickets/messages/email.html", context), "text/html")
    return mail


def email_address(email, name):
    # A quoted display name keeps commas and quotes in attendee names from splitting the address.
    if not name:
        return email
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{email}>'


def send_test(*, message, user):
    """Send ``message`` to the organiser ``user`` only; it is not recorded as a delivery."""
    if not user.email:
        raise MessageError("Your account has no e-mail address to send a test to.")
    mail = build_email(message=message, email=user.email, subject_prefix="[Test] ")
    try:
        mail.send()
    except Exception as error:  # noqa: BLE001 - any failure is reported to the organiser
        logger.warning("Test send of message %s failed: %s", message.pk, error)
        raise MessageError(f"The test e-mail could not be sent: {describe_error(error)}") from None
    return user.email


def send_message(*, message, expected_count=None):
    """Freeze the recipients of the draft ``message`` and send it to each of them.

    Refuses a message without recipients, one whose recipients changed since the organiser
    saw ``expected_count`` of them, and any message that is no longer a draft.
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
        MessageDelivery.objects.bulk_create(
            MessageDelivery(message=message, email=r.email, name=r.name) for r in recipients
        )
        message.status = AttendeeMessage.Status.SENDING
        message.sent_at = timezone.now()
        message.save(update_fields=["status", "sent_at"])
    return deliver_pending(message=message)


def retry_failed(*, message, max_attempts=None):
    """Send the failed deliveries of ``message`` again, and any still pending."""
    if message.status == AttendeeMessage.Status.DRAFT:
        raise MessageError("This message has not been sent yet.")
    failed = message.deliveries.filter(status=Delivery.FAILED)
    if max_attempts is not None:
        failed = failed.filter(attempts__lt=max_attempts)
    failed.update(status=Delivery.PENDING)
    return deliver_pending(message=message)


def deliver_pending(*, message):
    """Send each pending delivery of ``message`` once, over one SMTP connection when possible.

    After ``MAX_SERVER_FAILURES`` failures in a row that say the server itself is unreachable,
    stop and leave the rest pending: trying each would only hold the organiser's request for
    a timeout per attendee. A retry or ``send_pending_messages`` sends them later.
    """
    connection = get_connection()
    sent = failed = server_failures = 0
    try:
        while server_failures < MAX_SERVER_FAILURES and (delivery := claim_next(message)):
            try:
                connection.open()
                mail = build_email(message=message, email=delivery.email, name=delivery.name)
                mail.connection = connection
                mail.send()
            except Exception as error:  # noqa: BLE001 - recorded on the delivery, retried later
                failed += 1
                server_failures = server_failures + 1 if server_unreachable(error) else 0
                record_failure(delivery, error)
                close_quietly(connection)
            else:
                sent += 1
                server_failures = 0
                MessageDelivery.objects.filter(pk=delivery.pk, status=Delivery.SENDING).update(
                    status=Delivery.SENT, sent_at=timezone.now(), last_error=""
                )
    finally:
        close_quietly(connection)
        update_status(message)
    waiting = 0
    if server_failures >= MAX_SERVER_FAILURES:
        waiting = message.deliveries.filter(status=Delivery.PENDING).count()
    return Outcome(sent=sent, failed=failed, waiting=waiting)


def server_unreachable(error):
    """Return whether ``error`` concerns the mail server rather than this one message."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "service not available, closing channel"
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    # smtplib's errors are OSErrors too; the rest (refused, reset, timeout, DNS) are the network.
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def claim_next(message):
    """Take the next pending delivery of ``message`` for this process, or return None.

    Rows another transaction holds are skipped, and the conditional update is the claim
    itself, so two senders never get the same row (also on SQLite, which ignores the lock).
    """
    while True:
        with transaction.atomic():
            delivery = (
                MessageDelivery.objects.select_for_update(skip_locked=True)
                .filter(message=message, status=Delivery.PENDING)
                .order_by("id")
                .first()
            )
            if delivery is None:
                return None
            claimed = MessageDelivery.objects.filter(
                pk=delivery.pk, status=Delivery.PENDING
            ).update(status=Delivery.SENDING, attempts=F("attempts") + 1)
        if claimed:
            return delivery


def record_failure(delivery, error):
    logger.warning("Message delivery %s to %s failed: %s", delivery.pk, delivery.email, error)
    MessageDelivery.objects.filter(pk=delivery.pk, status=Delivery.SENDING).update(
        status=Delivery.FAILED, last_error=describe_error(error)[:MAX_ERROR_LENGTH]
    )


def describe_error(error):
    """Return the SMTP server's answer, or the exception, in one line."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = [answer for answer in error.recipients.values()]
        return "; ".join(f"{code} {decode(text)}" for code, text in answers) or "Refused"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {decode(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def decode(text):
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)


def close_quietly(connection):
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a broken connection is replaced on the next send
        logger.debug("Closing the SMTP connection failed", exc_info=True)


def update_status(message):
    """Set the message's status from its deliveries' statuses."""
    counts = dict(message.deliveries.order_by().values_list("status").annotate(count=Count("id")))
    if counts.get(Delivery.PENDING) or counts.get(Delivery.SENDING):
        status = AttendeeMessage.Status.SENDING
    elif counts.get(Delivery.FAILED):
        has_sent = counts.get(Delivery.SENT)
        status = AttendeeMessage.Status.PARTLY_FAILED if has_sent else AttendeeMessage.Status.FAILED
    else:
        status = AttendeeMessage.Status.SENT
    AttendeeMessage.objects.filter(pk=message.pk).exclude(
        status=AttendeeMessage.Status.DRAFT
    ).update(status=status)
    message.status = status
    return status


def send_pending(*, max_attempts):
    """Retry failed deliveries (below ``max_attempts``) and send pending ones of every message."""
    outcomes = []
    unfinished = AttendeeMessage.objects.exclude(
        status__in=[AttendeeMessage.Status.DRAFT, AttendeeMessage.Status.SENT]
    ).select_related("workshop")
    for message in unfinished:
        outcomes.append((message, retry_failed(message=message, max_attempts=max_attempts)))
    return outcomes
