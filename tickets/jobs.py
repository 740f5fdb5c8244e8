"""The ticket shop's periodic jobs, run by the task workers (PERIODIC_TASKS in settings).

Each is also a management command for running by hand, and each may run twice at once or
after a gap: the services decide under row locks and skip what is done.
"""

from django.conf import settings
from django_tasks import task

from tickets.privacy import anonymise_ended_workshops
from tickets.services import invoice_terms, refunds, stranded, stripe_checkout, waitlist


@task()
def release_expired_orders():
    """Close the Checkout Sessions of card orders whose reservation ran out; free their seats."""
    return stripe_checkout.release_expired_orders()


@task()
def process_invoice_orders():
    """Expire unpaid invoice orders past their grace period; remind those nearing their date."""
    expired = invoice_terms.expire_overdue_invoice_orders()
    return {"expired": expired, "reminded": invoice_terms.send_payment_reminders()}


@task()
def settle_processing_payments():
    """Ask Stripe how bank debits still processing past its time limit ended; record it. Send
    again the refunds Stripe could not be reached for."""
    counts = stranded.settle_processing_payments()
    return {**counts, "refunds sent again": refunds.send_unsent_refunds()}


@task()
def anonymise_attendees():
    """Anonymise buyers and attendees of workshops that ended PRIVACY_ANONYMISE_AFTER_DAYS ago."""
    return anonymise_ended_workshops(days=settings.PRIVACY_ANONYMISE_AFTER_DAYS)


@task()
def process_waiting_lists():
    """Pass waiting-list offers not used in time on, and offer every free seat to the line."""
    done = waitlist.process_waiting_lists()
    return {"expired": done.expired, "offered": done.offered, "forgotten": done.forgotten}
