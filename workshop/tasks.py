"""The workshop's periodic jobs (PERIODIC_TASKS in settings): upkeep of the mail log and queue."""

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from workshop import mail, worker
from workshop.models import OutgoingEmail


@task()
def send_overdue_emails():
    """Enqueue again queued e-mails whose delivery task did not run in time."""
    return mail.send_overdue_emails()


@task()
def prune_email_log():
    """Delete sent e-mails older than EMAIL_LOG_DAYS from the log (they hold addresses).

    Only sent ones: a row that another points to (a message delivery) reads as sent once gone.
    """
    cutoff = timezone.now() - dt.timedelta(days=settings.EMAIL_LOG_DAYS)
    sent = OutgoingEmail.objects.filter(state=OutgoingEmail.State.SENT, sent_at__lt=cutoff)
    return sent.delete()[0]


@task()
def prune_task_results():
    """Delete finished task results older than TASKS_KEEP_DAYS, and long-gone workers."""
    worker.forget_dead_workers()
    cutoff = timezone.now() - dt.timedelta(days=settings.TASKS_KEEP_DAYS)
    return DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()[0]
