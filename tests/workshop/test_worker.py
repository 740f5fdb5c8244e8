"""The worker's heartbeat and the recovery of tasks whose worker died."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from workshop import worker
from workshop.mail import deliver_email
from workshop.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def db_tasks(settings):
    settings.TASKS = DB_TASKS
    settings.TASKS_WORKER_TIMEOUT = 60


def running_task(worker_id, started_at):
    result = deliver_email.enqueue(1)
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=started_at, worker_ids=[worker_id]
    )
    return result.id


def test_beat_records_the_worker_once():
    now = timezone.now()
    worker.beat("w1", now=now - dt.timedelta(seconds=30))
    worker.beat("w1", now=now)

    beat = WorkerHeartbeat.objects.get()
    assert (beat.worker_id, beat.seen_at) == ("w1", now)
    assert beat.started_at == now - dt.timedelta(seconds=30)
    assert beat.pid is not None


def test_tasks_of_a_silent_worker_are_queued_again(db_tasks):
    now = timezone.now()
    worker.beat("dead", now=now - dt.timedelta(seconds=61))
    worker.beat("alive", now=now - dt.timedelta(seconds=5))
    long_ago = now - dt.timedelta(minutes=5)
    of_dead = running_task("dead", long_ago)
    of_alive = running_task("alive", long_ago)
    of_unknown = running_task("never-beat", long_ago)
    just_started = running_task("new-worker", now - dt.timedelta(seconds=10))

    assert worker.recover_abandoned_tasks(now=now) == 2

    statuses = {str(pk): status for pk, status in DBTaskResult.objects.values_list("id", "status")}
    assert statuses == {
        of_dead: "READY",
        of_unknown: "READY",
        of_alive: "RUNNING",
        just_started: "RUNNING",
    }
    assert worker.recover_abandoned_tasks(now=now) == 0


def test_recovered_task_is_ready_to_run_again(db_tasks):
    now = timezone.now()
    pk = running_task("dead", now - dt.timedelta(minutes=5))

    worker.recover_abandoned_tasks(now=now)

    task = DBTaskResult.objects.get()
    assert (task.status, task.started_at, task.worker_ids) == ("READY", None, ["dead"])
    assert list(DBTaskResult.objects.ready()) == [task]
    assert str(task.pk) == pk


def test_heartbeats_of_workers_gone_for_a_day_are_forgotten():
    now = timezone.now()
    worker.beat("old", now=now - dt.timedelta(days=2))
    worker.beat("recent", now=now - dt.timedelta(hours=2))

    assert worker.forget_dead_workers(now=now) == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["recent"]
