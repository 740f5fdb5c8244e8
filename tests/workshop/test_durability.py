"""No e-mail lost: real task workers (``manage.py run_worker`` processes) and a real SMTP server.

The mail server is down when an order is paid, or when organisers write to attendees, and
comes back later: each e-mail arrives exactly once, and the organisers' page says "queued"
until the server has taken it. A worker is killed (SIGKILL) in the middle of sending: another
worker runs the task again and the e-mail arrives exactly once. The workers share the test
database, so these run on PostgreSQL (SQLite's test database lives in the test process's
memory).
"""

import contextlib
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from django.core.mail import send_mail
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.factories import OrderFactory, TicketFactory, TicketTypeFactory
from tests.servers import ROOT, server_env
from tests.smtp import SMTPServer, free_port
from tests.tickets.test_invoices import invoice_order
from tickets.models import MessageDelivery
from tickets.services import lifecycle
from tickets.services import messages as mailing
from workshop.models import OutgoingEmail

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="The worker processes need the test database on a server (PostgreSQL).",
    ),
]

State = OutgoingEmail.State
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = DB_TASKS


def worker_env(settings, smtp_port):
    return server_env(
        settings,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_USE_TLS="0",
        EMAIL_TIMEOUT="5",
        # A short backoff stands in for minutes: 1 s, then 4 s, then 16 s.
        EMAIL_RETRY_SECONDS="1",
        TASKS_HEARTBEAT_SECONDS="1",
        TASKS_WORKER_TIMEOUT="3",
        LOG_LEVEL="INFO",
    )


@contextlib.contextmanager
def worker(env, worker_id):
    """Run ``manage.py run_worker`` as a process of its own; stop it (SIGTERM) afterwards."""
    command = [sys.executable, "manage.py", "run_worker", "--no-startup-delay"]
    command += ["--interval", "0.2", "--worker-id", worker_id]
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def output(process):
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def wait_for(condition, process, seconds=90, what="the worker"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if process.poll() is not None:
            raise AssertionError(f"{what} stopped:\n{output(process)}")
        time.sleep(0.1)
    raise AssertionError(f"{what} did not get there in {seconds} s:\n{output(process)}")


def confirmation(order):
    return OutgoingEmail.objects.filter(subject__startswith="Your tickets").first()


def test_confirmation_arrives_once_when_the_mail_server_comes_back(workshop, db_tasks, settings):
    smtp = SMTPServer(port=free_port())  # not listening yet: the server is down
    order = invoice_order(workshop)

    lifecycle.mark_invoice_paid(order=order)

    with worker(worker_env(settings, smtp.port), "w-down-up") as process:
        failed = wait_for(
            lambda: (row := confirmation(order)) and row.attempts >= 1 and row, process
        )
        assert failed.state == State.QUEUED
        assert "Connection refused" in failed.last_error or "ConnectionRefused" in failed.last_error
        smtp.start()
        try:
            sent = wait_for(
                lambda: (row := confirmation(order)) and row.state == State.SENT and row, process
            )
            time.sleep(2)  # room for a second copy, were one on its way
        finally:
            smtp.stop()

    subjects = smtp.handler.subjects()
    assert subjects.count(f"Your tickets for {workshop.title}") == 1
    [(recipients, message)] = [
        (r, m) for r, m in smtp.handler.received if m["Subject"].startswith("Your tickets")
    ]
    assert recipients == [order.buyer_email]
    assert sent.attempts >= 2
    assert message["Message-ID"] == sent.message["headers"]["Message-ID"]


def test_message_to_attendees_says_queued_until_the_server_takes_it_then_sent_once(
    workshop, db_tasks, settings, organiser_client
):
    ticket_type = TicketTypeFactory(workshop=workshop)
    people = ["ada@example.org", "bob@example.org", "cy@example.org"]
    for address in people:
        order = OrderFactory(workshop=workshop)
        TicketFactory(order=order, ticket_type=ticket_type, attendee_email=address)
    message = mailing.save_draft(
        workshop=workshop, subject="Stream link", body="Hi.", ticket_types=[], author=None
    )
    page = f"/organisers/messages/{message.pk}/"
    smtp = SMTPServer(port=free_port())  # not listening yet: the server is down

    def deliveries():
        return MessageDelivery.objects.filter(message=message).select_related("outgoing_email")

    organiser_client.post(f"{page}send/", {"recipient_count": "3"})

    assert organiser_client.get(page).content.decode().count("<td>Queued</td>") == 3
    with worker(worker_env(settings, smtp.port), "w-message") as process:
        wait_for(lambda: all(d.outgoing_email.attempts for d in deliveries()), process)
        html = organiser_client.get(page).content.decode()
        assert "<strong>Being delivered.</strong> The mail server has accepted 0 of 3" in html
        assert "<td>Sent</td>" not in html
        smtp.start()
        try:
            wait_for(lambda: all(d.state == "sent" for d in deliveries()), process)
            time.sleep(2)  # room for a second copy, were one on its way
        finally:
            smtp.stop()

    assert sorted(address for rcpt_tos, _ in smtp.handler.received for address in rcpt_tos) == (
        people
    )
    html = organiser_client.get(page).content.decode()
    assert "<strong>Delivered.</strong> The mail server has accepted 3 of 3 e-mails." in html
    assert html.count("<td>Sent</td>") == 3


def test_a_killed_worker_s_task_runs_again_and_sends_once(db_tasks, settings):
    smtp = SMTPServer().start()
    smtp.handler.stall_rcpt.set()  # the server hangs mid-conversation
    try:
        send_mail("Your tickets", "Body", None, ["ada@example.org"])
        row = OutgoingEmail.objects.get()
        env = worker_env(settings, smtp.port)

        with worker(env, "w-killed") as first:
            wait_for(lambda: OutgoingEmail.objects.get().state == State.SENDING, first)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        smtp.handler.stall_rcpt.clear()
        task = DBTaskResult.objects.get(task_path="workshop.mail.deliver_email")
        assert (task.status, task.worker_ids) == ("RUNNING", ["w-killed"])

        with worker(env, "w-second") as second:
            wait_for(lambda: OutgoingEmail.objects.get().state == State.SENT, second)
            time.sleep(2)
    finally:
        smtp.stop()

    assert smtp.handler.subjects() == ["Your tickets"]
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.SENT, 1)
    task.refresh_from_db()
    assert (task.status, task.worker_ids) == ("SUCCESSFUL", ["w-killed", "w-second"])
