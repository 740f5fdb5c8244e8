"""The ticket shop's background work: its e-mails, rendered and sent off the request.

The services enqueue these in the transaction that changes the order, so an order and its
e-mail commit together or not at all (workshop/mail.py). Each task may run again if its worker
dies (workshop/worker.py): ``once`` keyed by the task's id queues its e-mail only once.
"""

from django_tasks import task

from tickets import emails
from tickets.joining import joining_for
from tickets.models import Order, Refund
from workshop.mail import once


def order_mail(context, send, order_id):
    with once(f"task:{context.task_result.id}"):
        send(Order.objects.get(pk=order_id))


@task(takes_context=True)
def send_confirmation(context, order_id, paid=True):
    """E-mail the buyer the order link, and once paid the tickets and calendar file.

    ``paid`` is what the order was when this was enqueued: an order placed unpaid and paid
    before the worker got here is confirmed once, by the payment's own task.
    """
    with once(f"task:{context.task_result.id}"):
        order = Order.objects.get(pk=order_id)
        if order.is_paid and not paid:
            return "superseded by the payment's confirmation"
        emails.send_confirmation(order)


@task(takes_context=True)
def send_payment_reminder(context, order_id):
    """Remind the buyer of an unpaid invoice order of its due date."""
    order_mail(context, emails.send_payment_reminder, order_id)


@task(takes_context=True)
def send_invoice_order_expired(context, order_id):
    """Tell the buyer and the attendees that the unpaid invoice order expired."""
    order_mail(context, emails.send_invoice_order_expired, order_id)


@task(takes_context=True)
def send_late_refund(context, order_id):
    """Tell the buyer their late payment was refunded, and the attendees."""
    order_mail(context, emails.send_late_refund, order_id)


@task(takes_context=True)
def send_order_cancelled(context, order_id, ending):
    """Tell the buyer and the attendees that the order was cancelled (``ending``: by whom)."""
    with once(f"task:{context.task_result.id}"):
        emails.send_order_cancelled(Order.objects.get(pk=order_id), emails.Ending(ending))


@task(takes_context=True)
def send_payment_failed(context, order_id):
    """Tell the buyer and the attendees that the order's delayed payment failed."""
    order_mail(context, emails.send_payment_failed, order_id)


@task(takes_context=True)
def send_refund(context, order_id, refund_id, ending):
    """Tell the buyer of a refund, and the attendees of the tickets it cancels."""
    with once(f"task:{context.task_result.id}"):
        refund = Refund.objects.get(pk=refund_id)
        emails.send_refund(Order.objects.get(pk=order_id), refund, emails.Ending(ending))


@task(takes_context=True)
def send_attendee_tickets(context, order_id):
    """E-mail the attendees of a paid order who have not had their tickets yet (a correction)."""
    with once(f"task:{context.task_result.id}"):
        order = Order.objects.get(pk=order_id)
        if order.is_paid:
            emails.send_attendee_tickets(order, joining_for(order))
