"""Run a task worker: django-tasks-db's ``db_worker`` with a heartbeat (workshop/worker.py)."""

from django.core.management.base import CommandError
from django_tasks_db.management.commands import db_worker

from workshop.worker import Heartbeat, ParentWatch


class Command(db_worker.Command):
    help = (
        "Run a task worker (e-mail, periodic jobs) until SIGTERM or Ctrl+C, which let the "
        "current task finish. Run one or more beside the web servers; each runs one task at "
        "a time. Takes db_worker's options."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # The reloader would run the worker in a child process the heartbeat does not follow.
        parser.set_defaults(reload=False)
        parser.add_argument(
            "--stop-with-parent",
            action="store_true",
            help="Stop (as on SIGTERM) when the process that started this one ends (make run).",
        )

    def handle(self, *args, worker_id, reload, stop_with_parent, **options):
        if reload:
            raise CommandError("run_worker does not reload; restart it after changing code.")
        if stop_with_parent:
            ParentWatch().start()
        heartbeat = Heartbeat(worker_id)
        heartbeat.start()
        try:
            super().handle(*args, worker_id=worker_id, reload=False, **options)
        finally:
            heartbeat.stop()
