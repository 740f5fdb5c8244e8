"""Give every delivery of a sent message the e-mail in the mail log that carries it.

Before, a delivery had a status of its own and "sent" meant handed to Django's mail backend,
which since the mail log (workshop 0007) only queued it. Now the delivery's state is its
e-mail's state, and a delivery without one reads as sent (the log deletes only sent e-mails).
So each existing delivery gets, in this order:

- sent: the logged e-mail with its subject and address queued after the message was sent
  out, when the log still has it (its state, failed perhaps, is then the truth); otherwise it
  stays without one: it was sent before the log existed, or the log has pruned it since;
- pending, or failed with attempts left (the retry job would have sent it): a new queued
  e-mail, which the workers' overdue sweep delivers;
- failed for good: a new failed e-mail with its attempts and error, for organisers to retry;
- sending (its sender died mid-send; it may have arrived): a new failed e-mail saying so.

The e-mails are rendered here with the message templates, as the send would have.
"""

from email.utils import getaddresses, make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import migrations
from django.template.loader import render_to_string
from django.utils import timezone

# Retries of failed deliveries stopped after this many attempts (the old send_pending_messages).
OLD_MAX_ATTEMPTS = 5
CUT_OFF = (
    "Sending was cut off before the mail queue existed; the e-mail may have arrived. "
    "Retry only if the attendee did not get it."
)


def link_deliveries(apps, schema_editor):
    AttendeeMessage = apps.get_model("tickets", "AttendeeMessage")
    OutgoingEmail = apps.get_model("workshop", "OutgoingEmail")
    sent_out = AttendeeMessage.objects.exclude(status="draft")
    sent_out.exclude(status="sent").update(status="sent")
    for message in sent_out.select_related("workshop"):
        deliveries = list(message.deliveries.filter(outgoing_email=None))
        if not deliveries:
            continue
        logged = logged_emails(OutgoingEmail, message)
        for delivery in deliveries:
            if delivery.status == "sent":
                delivery.outgoing_email = logged.pop(delivery.email.lower(), None)
            else:
                delivery.outgoing_email = new_email(OutgoingEmail, message, delivery)
            if delivery.outgoing_email is not None:
                delivery.save(update_fields=["outgoing_email"])


def logged_emails(OutgoingEmail, message):
    """Return the message's e-mails in the log by address (the first one each), not yet linked."""
    if message.sent_at is None:
        return {}
    rows = OutgoingEmail.objects.filter(
        subject=message.subject, created_at__gte=message.sent_at, message_delivery=None
    ).order_by("created_at", "id")
    by_address = {}
    for row in rows:
        addresses = [address.lower() for _, address in getaddresses([row.recipients])]
        if len(addresses) == 1:
            by_address.setdefault(addresses[0], row)
    return by_address


def new_email(OutgoingEmail, message, delivery):
    now = timezone.now()
    state, attempts, error = "queued", 0, delivery.last_error
    if delivery.status == "failed" and delivery.attempts >= OLD_MAX_ATTEMPTS:
        state, attempts = "failed", delivery.attempts
    elif delivery.status == "sending":
        state, attempts, error = "failed", delivery.attempts, CUT_OFF
    data = rendered(message, delivery)
    return OutgoingEmail.objects.create(
        created_at=now,
        state=state,
        subject=message.subject,
        recipients=data["to"][0],
        message=data,
        attempts=attempts,
        last_error=error,
        next_attempt_at=now if state == "queued" else None,
        dedupe_key=f"message-delivery:{delivery.pk}",
    )


def rendered(message, delivery):
    """Return the delivery's e-mail as workshop.mail.serialise writes it."""
    from workshop.markdown import render_markdown

    context = {
        "message": message,
        "workshop": message.workshop,
        "body_html": render_markdown(message.body),
        "site_url": settings.SITE_URL,
    }
    address = delivery.email
    if delivery.name:
        quoted = delivery.name.replace("\\", "\\\\").replace('"', '\\"')
        address = f'"{quoted}" <{delivery.email}>'
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return {
        "subject": message.subject,
        "body": render_to_string("tickets/messages/email.txt", context),
        "from_email": settings.DEFAULT_FROM_EMAIL,
        "to": [address],
        "cc": [],
        "bcc": [],
        "reply_to": [],
        "headers": {"Message-ID": make_msgid(domain=domain)},
        "content_subtype": "plain",
        "alternatives": [[render_to_string("tickets/messages/email.html", context), "text/html"]],
        "attachments": [],
    }


def unlink_deliveries(apps, schema_editor):
    """Give each delivery the status of its e-mail again (the fields come back empty)."""
    MessageDelivery = apps.get_model("tickets", "MessageDelivery")
    old_status = {"queued": "pending", "sending": "sending", "sent": "sent", "failed": "failed"}
    for delivery in MessageDelivery.objects.select_related("outgoing_email"):
        email = delivery.outgoing_email
        if email is None:
            delivery.status = "sent"
        else:
            delivery.status = old_status[email.state]
            delivery.attempts = email.attempts
            delivery.last_error = email.last_error
            delivery.sent_at = email.sent_at
        delivery.save(update_fields=["status", "attempts", "last_error", "sent_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_message_delivery_email"),
        ("workshop", "0008_periodic_job"),
    ]

    operations = [migrations.RunPython(link_deliveries, unlink_deliveries)]
