"""Periodic jobs: enqueued by the task workers on the schedule ``PERIODIC_TASKS`` declares.

Every worker looks at the schedule on each heartbeat. A job's row is locked while it is
enqueued and moved on to its next time in the same transaction, so however many workers run,
each due job is enqueued once; after a gap (no worker for a day) a job runs once, not once per
missed turn. The jobs themselves decide under row locks, so two runs at once (a slow run still
going when the next is due, or the management command run by hand) do no harm.
"""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from workshop.models import PeriodicJob

logger = logging.getLogger(__name__)


def enqueue_due_jobs(*, now=None):
    """Enqueue each job of PERIODIC_TASKS whose time has come; return their names."""
    now = now or timezone.now()
    return [name for name, job in settings.PERIODIC_TASKS.items() if enqueue_if_due(name, job, now)]


def enqueue_if_due(name, job, now):
    """Enqueue the job ``name`` if it is due and no other worker is doing so right now."""
    every = dt.timedelta(seconds=job["every"])
    with transaction.atomic():
        PeriodicJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
        row = (
            PeriodicJob.objects.select_for_update(skip_locked=True)
            .filter(name=name, next_run_at__lte=now)
            .first()
        )
        if row is None:
            return False
        import_string(job["task"]).enqueue()
        row.last_enqueued_at = now
        row.next_run_at = now + every
        row.save(update_fields=["last_enqueued_at", "next_run_at"])
    logger.info("Periodic job %s enqueued", name)
    return True
