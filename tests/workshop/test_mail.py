"""The outgoing mail log: every e-mail is logged and queued, delivered by a task, retried."""

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.smtp import SMTPServer, free_port, smtp_settings
from workshop import mail as outbox
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

State = OutgoingEmail.State
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def smtp(settings):
    server = SMTPServer().start()
    for name, value in smtp_settings(server.port).items():
        setattr(settings, name, value)
    yield server
    server.stop()


@pytest.fixture
def smtp_down(settings):
    """Deliver to a port where no server listens (connection refused)."""
    for name, value in smtp_settings(free_port()).items():
        setattr(settings, name, value)


def test_send_mail_is_logged_and_delivered_once():
    count = send_mail("Hello", "Body", "from@example.org", ["ada@example.org"])

    assert count == 1
    [row] = OutgoingEmail.objects.all()
    assert (row.state, row.attempts, row.subject) == (State.SENT, 1, "Hello")
    assert row.recipients == "ada@example.org"
    assert row.sent_at is not None
    assert (row.message["body"], row.message["to"]) == ("", ["ada@example.org"])
    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Hello", "Body", ["ada@example.org"])


def test_message_with_alternatives_and_attachments_arrives_unchanged():
    message = EmailMultiAlternatives(
        "Tickets",
        "Plain",
        "Workshop <from@example.org>",
        ["ada@example.org"],
        cc=["bob@example.org"],
        bcc=["carol@example.org"],
        reply_to=["help@example.org"],
        headers={"X-Order": "AB12"},
    )
    message.attach_alternative("<p>HTML</p>", "text/html")
    message.attach("ticket.png", b"\x89PNG\x00\xff", "image/png")
    message.attach("workshop.ics", "BEGIN:VCALENDAR", "text/calendar")

    message.send()

    [sent] = mail.outbox
    assert sent.to == ["ada@example.org"]
    assert (sent.cc, sent.bcc, sent.reply_to) == (
        ["bob@example.org"],
        ["carol@example.org"],
        ["help@example.org"],
    )
    assert sent.from_email == "Workshop <from@example.org>"
    assert sent.alternatives == [("<p>HTML</p>", "text/html")]
    assert [tuple(a) for a in sent.attachments] == [
        ("ticket.png", b"\x89PNG\x00\xff", "image/png"),
        ("workshop.ics", "BEGIN:VCALENDAR", "text/calendar"),
    ]
    assert sent.extra_headers["X-Order"] == "AB12"
    assert sent.extra_headers["Message-ID"].endswith("@127.0.0.1>")
    row = OutgoingEmail.objects.get()
    assert row.recipients == "ada@example.org, bob@example.org, carol@example.org"


def test_message_without_recipients_is_not_logged():
    assert send_mail("Nobody", "Body", None, []) == 0
    assert not OutgoingEmail.objects.exists()


def test_mail_and_task_roll_back_with_the_change(settings):
    settings.TASKS = DB_TASKS

    with pytest.raises(RuntimeError), transaction.atomic():
        send_mail("Lost with the order", "Body", None, ["ada@example.org"])
        raise RuntimeError("the order failed")

    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


def test_mail_and_task_commit_with_the_change_and_wait_for_the_worker(settings):
    settings.TASKS = DB_TASKS

    with transaction.atomic():
        send_mail("Your tickets", "Body", None, ["ada@example.org"])

    row = OutgoingEmail.objects.get()
    task = DBTaskResult.objects.get()
    assert row.state == State.QUEUED
    assert task.task_path == "workshop.mail.deliver_email"
    assert task.args_kwargs == {"args": [row.pk], "kwargs": {}}
    assert task.status == "READY"
    assert mail.outbox == []


def test_delivery_over_smtp(smtp):
    send_mail("Over SMTP", "Body", "from@example.org", ["ada@example.org"])

    assert OutgoingEmail.objects.get().state == State.SENT
    [(recipients, message)] = smtp.handler.received
    assert recipients == ["ada@example.org"]
    assert message["Subject"] == "Over SMTP"


def test_server_down_is_retried_later_with_a_growing_pause(smtp_down, settings):
    settings.TASKS = DB_TASKS
    before = timezone.now()
    send_mail("Later", "Body", None, ["ada@example.org"])
    row = OutgoingEmail.objects.get()
    first = DBTaskResult.objects.get()

    outbox.deliver_email.call(context_for(first), row.pk)

    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.QUEUED, 1)
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at - before >= dt.timedelta(seconds=60)
    retry = DBTaskResult.objects.exclude(pk=first.pk).get()
    assert retry.run_after == row.next_attempt_at
    assert outbox.retry_delay(1) == dt.timedelta(seconds=60)
    assert outbox.retry_delay(3) == dt.timedelta(minutes=16)


def context_for(db_task):
    from django_tasks import TaskContext

    return TaskContext(task_result=db_task.task_result)


def test_after_the_last_attempt_it_fails_and_an_organiser_can_retry(smtp_down, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    send_mail("Stuck", "Body", None, ["ada@example.org"])
    row = OutgoingEmail.objects.get()
    assert (row.state, row.attempts) == (State.QUEUED, 1)

    # The immediate backend cannot wait: the overdue sweep runs the next attempts.
    later = row.next_attempt_at + dt.timedelta(hours=1)
    assert outbox.send_overdue_emails(now=later) == 1
    assert outbox.send_overdue_emails(now=later + dt.timedelta(hours=1)) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == (State.FAILED, 3, None)
    assert list(OutgoingEmail.objects.failed()) == [row]
    assert outbox.send_overdue_emails(now=later + dt.timedelta(days=1)) == 0

    server = SMTPServer().start()
    settings.EMAIL_PORT = server.port
    try:
        assert outbox.retry_email(email_id=row.pk) is True
    finally:
        server.stop()

    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 1)
    assert server.handler.subjects() == ["Stuck"]
    assert outbox.retry_email(email_id=row.pk) is False


def test_refused_recipient_fails_at_once(smtp):
    smtp.handler.refuse.add("gone@example.org")

    send_mail("Refused", "Body", None, ["gone@example.org"])

    row = OutgoingEmail.objects.get()
    assert (row.state, row.attempts) == (State.FAILED, 1)
    assert row.last_error == "550 5.1.1 Mailbox unavailable"


def test_temporary_refusal_is_retried(smtp):
    smtp.handler.fail_data = True

    send_mail("Busy", "Body", None, ["ada@example.org"])

    row = OutgoingEmail.objects.get()
    assert (row.state, row.attempts) == (State.QUEUED, 1)
    assert row.last_error == "451 4.3.0 Try again later"


def test_a_sent_or_claimed_email_is_not_sent_by_another_task(settings):
    settings.TASKS = DB_TASKS
    send_mail("Once", "Body", None, ["ada@example.org"])
    row = OutgoingEmail.objects.get()
    task = DBTaskResult.objects.get()

    OutgoingEmail.objects.filter(pk=row.pk).update(state=State.SENDING, claimed_by="other")
    assert outbox.deliver_email.call(context_for(task), row.pk) == "nothing to do"
    assert mail.outbox == []

    # The same task, run again after its worker died mid-send, finishes the job.
    OutgoingEmail.objects.filter(pk=row.pk).update(claimed_by=str(task.pk))
    assert outbox.deliver_email.call(context_for(task), row.pk) == State.SENT
    assert outbox.deliver_email.call(context_for(task), row.pk) == "nothing to do"
    assert len(mail.outbox) == 1


def test_once_queues_a_repeated_block_only_once():
    for _ in range(2):
        with outbox.once("task-1"):
            send_mail("First", "Body", None, ["ada@example.org"])
            send_mail("Second", "Body", None, ["ada@example.org"])

    assert sorted(OutgoingEmail.objects.values_list("dedupe_key", "subject")) == [
        ("task-1:1", "First"),
        ("task-1:2", "Second"),
    ]
    assert [message.subject for message in mail.outbox] == ["First", "Second"]


def test_password_reset_mail_of_allauth_goes_through_the_log(client, django_user_model):
    user = django_user_model.objects.create_user("ada", "ada@example.org", "pw-12345678")
    user.emailaddress_set.create(email="ada@example.org", verified=True, primary=True)

    client.post("/accounts/password/reset/", {"email": "ada@example.org"})

    row = OutgoingEmail.objects.get()
    assert row.state == State.SENT
    assert "Password Reset" in row.subject
    assert len(mail.outbox) == 1


def test_sign_up_verification_mail_of_allauth_goes_through_the_log(client, workshop):
    password = "a long enough passphrase"
    client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": password, "password2": password},
    )

    row = OutgoingEmail.objects.get()
    assert (row.state, row.recipients) == (State.SENT, "new@example.org")
    assert [message.to for message in mail.outbox] == [["new@example.org"]]
