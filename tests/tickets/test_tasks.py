"""The shop's e-mails are tasks enqueued with the order's change and rendered by the worker."""

import pytest
from django.core import mail
from django.db import transaction
from django_tasks import TaskContext
from django_tasks_db.models import DBTaskResult

from tests.tickets.test_invoices import invoice_order
from tickets import tasks
from tickets.services import lifecycle
from workshop.models import OutgoingEmail

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def run(db_task):
    """Run a stored task here, as the worker does."""
    context = TaskContext(task_result=db_task.task_result)
    return db_task.task.call(context, *db_task.args_kwargs["args"], **db_task.args_kwargs["kwargs"])


def test_payment_and_its_confirmation_commit_together(workshop, no_stripe, settings):
    settings.TASKS = DB_TASKS
    order = invoice_order(workshop)
    DBTaskResult.objects.all().delete()

    lifecycle.mark_invoice_paid(order=order)

    task = DBTaskResult.objects.get()
    assert task.task_path == "tickets.tasks.send_confirmation"
    assert task.args_kwargs == {"args": [order.pk], "kwargs": {"paid": True}}
    assert not OutgoingEmail.objects.exists()  # rendered by the worker, not in the request


def test_no_confirmation_when_the_payment_rolls_back(workshop, no_stripe, settings):
    settings.TASKS = DB_TASKS
    order = invoice_order(workshop)
    DBTaskResult.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.mark_invoice_paid(order=order)
        raise RuntimeError("something after the payment failed")

    assert not DBTaskResult.objects.exists()


def test_confirmation_task_run_twice_queues_one_email(workshop, no_stripe, settings):
    settings.TASKS = DB_TASKS
    order = invoice_order(workshop)
    lifecycle.mark_invoice_paid(order=order)
    task = DBTaskResult.objects.filter(task_path="tickets.tasks.send_confirmation").last()

    run(task)
    run(task)  # its worker died before recording that it had finished

    [email] = OutgoingEmail.objects.filter(subject__startswith="Your tickets")
    assert email.recipients == order.buyer_email
    assert email.dedupe_key == f"task:{task.pk}:1"


def test_confirmation_arrives_through_the_log(workshop, no_stripe):
    order = invoice_order(workshop)
    mail.outbox.clear()

    lifecycle.mark_invoice_paid(order=order)

    sent, *attendees = mail.outbox
    assert sent.subject == f"Your tickets for {workshop.title}"
    assert [m.subject for m in attendees] == [f"Your ticket for {workshop.title}"] * 2
    assert OutgoingEmail.objects.get(subject=sent.subject).state == OutgoingEmail.State.SENT
    assert tasks.send_confirmation.name == "send_confirmation"


def test_a_reservation_mail_rendered_after_the_payment_is_not_sent(workshop, no_stripe, settings):
    settings.TASKS = DB_TASKS
    order = invoice_order(workshop)
    lifecycle.mark_invoice_paid(order=order)
    placed, paid = DBTaskResult.objects.filter(
        task_path="tickets.tasks.send_confirmation"
    ).order_by("enqueued_at")

    # The worker reaches both only now: one "Your tickets", no stale "reserved" e-mail.
    assert run(placed) == "superseded by the payment's confirmation"
    run(paid)

    assert sorted(OutgoingEmail.objects.values_list("subject", flat=True)) == [
        f"Your ticket for {workshop.title}",  # each attendee's own
        f"Your ticket for {workshop.title}",
        f"Your tickets for {workshop.title}",
    ]
