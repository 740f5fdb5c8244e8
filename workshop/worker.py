"""The task worker: django-tasks-db's worker, a heartbeat, recovery of dead workers' tasks.

django-tasks-db marks a task "running" before it runs it and never looks at it again, so a
worker killed mid-task (out of memory, a machine that died, ``kill -9``) would leave the task
running for ever. Each worker therefore writes a heartbeat every ``TASKS_HEARTBEAT_SECONDS``
from a thread of its own (also while a long task runs), and puts back in the queue the
running tasks of workers silent for ``TASKS_WORKER_TIMEOUT``. The tasks are written to be run
again: e-mails are claimed by their task (workshop/mail.py), periodic jobs decide under row
locks.
"""

import datetime as dt
import logging
import os
import signal
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from workshop import scheduler
from workshop.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"
READY = "READY"


def beat(worker_id, *, now=None):
    """Record that ``worker_id`` is alive."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"seen_at": now},
        create_defaults={
            "seen_at": now,
            "started_at": now,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


def live_workers(now):
    since = now - dt.timedelta(seconds=settings.TASKS_WORKER_TIMEOUT)
    return set(
        WorkerHeartbeat.objects.filter(seen_at__gte=since).values_list("worker_id", flat=True)
    )


def recover_abandoned_tasks(*, now=None):
    """Put back in the queue the running tasks whose worker stopped beating; return how many.

    A task is its worker's while it runs; the worker is the last of its ``worker_ids``. Tasks
    that started less than TASKS_WORKER_TIMEOUT ago are left alone, so that a worker which
    has not beaten yet is not robbed of its first task.
    """
    now = now or timezone.now()
    alive = live_workers(now)
    started_before = now - dt.timedelta(seconds=settings.TASKS_WORKER_TIMEOUT)
    running = DBTaskResult.objects.filter(status=RUNNING, started_at__lt=started_before)
    recovered = 0
    for pk, worker_ids in running.values_list("pk", "worker_ids"):
        if worker_ids and worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            recovered += (
                DBTaskResult.objects.filter(pk=pk, status=RUNNING)
                .select_for_update(skip_locked=True)
                .update(status=READY, started_at=None)
            )
        logger.warning("Task %s of dead worker %s queued again", pk, worker_ids[-1:] or "?")
    return recovered


def forget_dead_workers(*, now=None, keep=dt.timedelta(days=1)):
    """Delete the heartbeats of workers gone for more than ``keep``."""
    now = now or timezone.now()
    return WorkerHeartbeat.objects.filter(seen_at__lt=now - keep).delete()[0]


def housekeeping(worker_id):
    """One round of the worker's duties: its heartbeat, recovery of others' tasks, the schedule."""
    beat(worker_id)
    recover_abandoned_tasks()
    scheduler.enqueue_due_jobs()


class Heartbeat(threading.Thread):
    """Run ``housekeeping`` every TASKS_HEARTBEAT_SECONDS until stopped."""

    def __init__(self, worker_id):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                close_old_connections()
                housekeeping(self.worker_id)
            except Exception:  # noqa: BLE001 - a database hiccup must not stop the beats
                logger.exception("Worker housekeeping failed")
            finally:
                connection.close()
            self.stopped.wait(settings.TASKS_HEARTBEAT_SECONDS)

    def stop(self):
        self.stopped.set()
        self.join(timeout=settings.TASKS_HEARTBEAT_SECONDS + 5)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


class ParentWatch(threading.Thread):
    """Send this process SIGTERM once its parent is gone: no worker outlives ``make run``."""

    def __init__(self):
        super().__init__(name="parent-watch", daemon=True)
        self.parent = os.getppid()

    def run(self):
        while os.getppid() == self.parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)
