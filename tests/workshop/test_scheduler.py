"""Periodic jobs: enqueued once per turn by whichever worker looks first, once after a gap."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from workshop import scheduler
from workshop.models import PeriodicJob

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOBS = {
    "often": {"task": "workshop.tasks.send_overdue_emails", "every": 60},
    "daily": {"task": "workshop.tasks.prune_email_log", "every": 24 * 60 * 60},
}


@pytest.fixture
def schedule(settings):
    settings.TASKS = DB_TASKS
    settings.PERIODIC_TASKS = JOBS


def enqueued():
    return sorted(DBTaskResult.objects.values_list("task_path", flat=True))


def test_every_job_is_due_at_first(schedule):
    now = timezone.now()

    assert scheduler.enqueue_due_jobs(now=now) == ["often", "daily"]

    assert enqueued() == ["workshop.tasks.prune_email_log", "workshop.tasks.send_overdue_emails"]
    assert PeriodicJob.objects.get(name="often").next_run_at == now + dt.timedelta(minutes=1)


def test_a_job_is_enqueued_once_per_turn(schedule):
    now = timezone.now()
    scheduler.enqueue_due_jobs(now=now)

    assert scheduler.enqueue_due_jobs(now=now + dt.timedelta(seconds=30)) == []
    assert scheduler.enqueue_due_jobs(now=now + dt.timedelta(seconds=61)) == ["often"]
    assert len(enqueued()) == 3


def test_after_a_gap_a_job_runs_once_not_once_per_missed_turn(schedule):
    now = timezone.now()
    scheduler.enqueue_due_jobs(now=now)
    later = now + dt.timedelta(days=3)

    assert scheduler.enqueue_due_jobs(now=later) == ["often", "daily"]
    assert scheduler.enqueue_due_jobs(now=later) == []
    assert PeriodicJob.objects.get(name="daily").next_run_at == later + dt.timedelta(days=1)


def test_periodic_jobs_of_settings_run(settings):
    # The immediate backend runs them: each job's task exists and runs without arguments.
    names = scheduler.enqueue_due_jobs()

    assert names == list(settings.PERIODIC_TASKS)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_enqueue_each_job_once(schedule):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    now = timezone.now()
    scheduler.enqueue_due_jobs(now=now)  # the rows exist
    due = now + dt.timedelta(days=2)
    barrier = threading.Barrier(4)
    results = []

    def look():
        barrier.wait()
        try:
            results.append(scheduler.enqueue_due_jobs(now=due))
        finally:
            connection.close()

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(name for names in results for name in names) == ["daily", "often"]
    assert len(enqueued()) == 4
