"""Every e-mail of the site goes through the outgoing mail log and the task queue.

``EMAIL_BACKEND`` is ``QueuedEmailBackend``: ``send_mail``, ``EmailMessage.send()`` and
allauth's mails write one ``OutgoingEmail`` row per message and enqueue ``deliver_email``,
both in the caller's transaction. With the database task backend the row and its task
commit together with the change that caused them, or not at all, and no request waits for
the mail server. A worker (``manage.py run_worker``) sends each row through
``EMAIL_DELIVERY_BACKEND`` (SMTP in production); a failure is retried with exponential
backoff up to ``EMAIL_MAX_ATTEMPTS`` and then waits for an organiser's "retry" on the
dashboard. A refusal that names the message itself (an SMTP 5xx answer) is not retried.

Once sent, a row keeps its addresses, subject and headers but not its body and attachments.

Delivery is at least once: a worker that dies after the server accepted a message but before
it recorded so sends it again when the task is recovered. Every message keeps the Message-ID
it was given when queued, so mail programs show such a copy once.
"""

import base64
import contextlib
import contextvars
import datetime as dt
import logging
import smtplib
from email.mime.base import MIMEBase
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from workshop.models import OutgoingEmail

logger = logging.getLogger(__name__)

State = OutgoingEmail.State
MAX_ERROR_LENGTH = 1000

_dedupe_prefix = contextvars.ContextVar("mail_dedupe_prefix", default=None)


# -- Queuing ----------------------------------------------------------------------------------


class QueuedEmailBackend(BaseEmailBackend):
    """Keep each message in the outgoing mail log and queue its delivery; send nothing here."""

    def send_messages(self, email_messages):
        queued = 0
        try:
            with transaction.atomic():
                for message in email_messages:
                    if message.recipients() and queue_email(message):
                        queued += 1
        except Exception:
            if not self.fail_silently:
                raise
            logger.exception("Queuing e-mails failed")
            return 0
        return queued


@contextlib.contextmanager
def once(key):
    """Queue the e-mails sent inside this block only once for ``key``, however often it runs.

    A task that sends e-mail and may run again (its worker died after it committed) passes a
    key of its own, such as its task id: the n-th message of the block gets ``key:n``.
    """
    token = _dedupe_prefix.set([key, 0])
    try:
        yield
    finally:
        _dedupe_prefix.reset(token)


def next_dedupe_key():
    current = _dedupe_prefix.get()
    if current is None:
        return None
    current[1] += 1
    return f"{current[0]}:{current[1]}"


def queue_email(message, *, key=None, now=None):
    """Write ``message`` to the log and enqueue its delivery; return the row (None: a repeat).

    ``key`` (else the one ``once`` gives) is the e-mail's dedupe key: a second e-mail with
    the same key is not queued.
    """
    now = now or timezone.now()
    key = key or next_dedupe_key()
    if key is not None and OutgoingEmail.objects.filter(dedupe_key=key).exists():
        return None
    if not any(name.lower() == "message-id" for name in message.extra_headers):
        # Fixed now, so that a message sent twice (a worker died mid-send) is one message.
        domain = urlsplit(settings.SITE_URL).hostname or "localhost"
        message.extra_headers["Message-ID"] = make_msgid(domain=domain)
    try:
        with transaction.atomic():
            row = OutgoingEmail.objects.create(
                created_at=now,
                next_attempt_at=now,
                subject=str(message.subject)[:1000],
                recipients=", ".join(message.recipients()),
                message=serialise(message),
                dedupe_key=key,
            )
    except IntegrityError:
        if key is None:
            raise
        return None  # queued by a run of the same task at this very moment
    deliver_email.enqueue(row.pk)
    return row


def serialise(message):
    """Return ``message`` as JSON-ready data that ``build`` turns back into the same message."""
    return {
        "subject": str(message.subject),
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": {name: str(value) for name, value in message.extra_headers.items()},
        "content_subtype": message.content_subtype,
        "alternatives": [
            [content, mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "attachments": [attachment_data(attachment) for attachment in message.attachments],
    }


def attachment_data(attachment):
    if isinstance(attachment, MIMEBase):
        filename, content = attachment.get_filename(), attachment.get_payload(decode=True)
        mimetype = attachment.get_content_type()
    else:
        filename, content, mimetype = attachment
    if isinstance(content, str):
        return {"filename": filename, "mimetype": mimetype, "text": content}
    return {
        "filename": filename,
        "mimetype": mimetype,
        "base64": base64.b64encode(content).decode("ascii"),
    }


def build(data):
    """Return the EmailMultiAlternatives that ``serialise`` wrote as ``data``."""
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
    )
    message.content_subtype = data["content_subtype"]
    for content, mimetype in data["alternatives"]:
        message.attach_alternative(content, mimetype)
    for attachment in data["attachments"]:
        content = attachment.get("text")
        if content is None:
            content = base64.b64decode(attachment["base64"])
        message.attach(attachment["filename"], content, attachment["mimetype"])
    return message


# -- Delivering -------------------------------------------------------------------------------


@task(takes_context=True)
def deliver_email(context, email_id):
    """Send one logged e-mail; on failure record why and queue the next attempt, or give up."""
    task_id = str(context.task_result.id)[:64]
    row = claim(email_id, task_id)
    if row is None:
        return "nothing to do"
    try:
        with get_connection(settings.EMAIL_DELIVERY_BACKEND) as connection:
            connection.send_messages([build(row.message)])
    except Exception as error:  # noqa: BLE001 - recorded on the row and retried
        return record_failure(row, error, task_id)
    OutgoingEmail.objects.filter(pk=row.pk, claimed_by=task_id).update(
        state=State.SENT,
        sent_at=timezone.now(),
        attempts=row.attempts + 1,
        claimed_by="",
        message=without_content(row.message),
    )
    return State.SENT


def without_content(data):
    """Return ``data`` without body and attachments, which a sent e-mail no longer needs.

    They may hold secrets (invitation and password-reset links) and personal data; the log
    keeps who got what and when.
    """
    return {**data, "body": "", "alternatives": [], "attachments": []}


def claim(email_id, task_id):
    """Take the queued e-mail for this task run, or return None if it is not ours to send.

    The claim commits before the mail server is contacted, so no transaction (nor SQLite's
    write lock) is held while it answers. A row left "sending" by this same task, whose
    worker died mid-send, is taken again: the task was recovered to finish it.
    """
    with transaction.atomic():
        row = OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id).first()
        if row is None:
            return None
        mine = row.state == State.SENDING and row.claimed_by == task_id
        if row.state != State.QUEUED and not mine:
            return None
        row.state, row.claimed_by = State.SENDING, task_id
        row.save(update_fields=["state", "claimed_by"])
    return row


def record_failure(row, error, task_id, *, now=None):
    """Keep the server's answer; queue another attempt after a growing pause, or give up."""
    now = now or timezone.now()
    attempts = row.attempts + 1
    give_up = is_permanent(error) or attempts >= settings.EMAIL_MAX_ATTEMPTS
    logger.warning(
        "E-mail %s to %s failed (attempt %s): %s", row.pk, row.recipients, attempts, error
    )
    with transaction.atomic():
        changed = OutgoingEmail.objects.filter(pk=row.pk, claimed_by=task_id).update(
            state=State.FAILED if give_up else State.QUEUED,
            attempts=attempts,
            last_error=describe_error(error)[:MAX_ERROR_LENGTH],
            next_attempt_at=None if give_up else now + retry_delay(attempts),
            claimed_by="",
        )
        if changed and not give_up:
            enqueue_later(row.pk, now + retry_delay(attempts))
    return State.FAILED if give_up else State.QUEUED


def retry_delay(attempts):
    """Return the pause after ``attempts`` failed attempts: EMAIL_RETRY_SECONDS × 4ⁿ⁻¹."""
    return dt.timedelta(seconds=settings.EMAIL_RETRY_SECONDS * 4 ** (attempts - 1))


def enqueue_later(email_id, when):
    """Enqueue the delivery to run at ``when``, where the task backend can wait.

    A backend that cannot (the immediate one of the tests) would run it at once; the row
    stays queued with its time instead and ``send_overdue_emails`` picks it up.
    """
    if deliver_email.get_backend().supports_defer:
        deliver_email.using(run_after=when).enqueue(email_id)


def send_overdue_emails(*, now=None, grace=dt.timedelta(minutes=5)):
    """Enqueue again the queued e-mails whose delivery is overdue; return how many.

    Their task normally runs on time; this catches those it did not reach (a task removed by
    hand, a backend that cannot wait). Enqueuing twice is harmless: one task claims the row.
    """
    now = now or timezone.now()
    ids = list(OutgoingEmail.objects.overdue(now - grace).values_list("pk", flat=True))
    for email_id in ids:
        deliver_email.enqueue(email_id)
    return len(ids)


def retry_email(*, email_id, now=None):
    """Queue a failed e-mail again for a full round of attempts; return whether it was failed."""
    now = now or timezone.now()
    with transaction.atomic():
        changed = OutgoingEmail.objects.filter(pk=email_id, state=State.FAILED).update(
            state=State.QUEUED, attempts=0, next_attempt_at=now
        )
        if changed:
            deliver_email.enqueue(email_id)
    return bool(changed)


# -- Errors -----------------------------------------------------------------------------------


def is_permanent(error):
    """Return whether the server refused this message for good (5xx), so retrying cannot help."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def describe_error(error):
    """Return the SMTP server's answer, or the exception, in one line."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        return "; ".join(f"{code} {decode(text)}" for code, text in answers) or "Refused"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {decode(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def decode(text):
    return text.decode(errors="replace") if isinstance(text, bytes) else str(text)
