"""Send what the organisers' pages could not: pending deliveries and failed ones worth retrying.

Messages to attendees are sent inside the organiser's request, one SMTP transaction per
attendee. For a workshop of a few hundred attendees that takes seconds, needs no task queue
or worker to deploy and watch, and the organiser sees the outcome at once. What that leaves
open - a mail server that was down, a request cut off by a proxy or worker timeout halfway -
this command picks up from cron (every 10 minutes, say). It claims each delivery the same way
the pages do, so it may run while an organiser is sending: nothing goes out twice. A delivery
left "sending" by a process that died is not retried, because it may have been delivered.
"""

from django.core.management.base import BaseCommand

from tickets.services import messages as mailing


class Command(BaseCommand):
    help = (
        "Send pending attendee-message deliveries and retry failed ones that have had fewer "
        "than --max-attempts attempts. Run it from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-attempts",
            type=int,
            default=5,
            help="Stop retrying a delivery after this many attempts (default 5).",
        )

    def handle(self, *args, max_attempts, **options):
        outcomes = mailing.send_pending(max_attempts=max_attempts)
        for message, outcome in outcomes:
            if outcome.sent or outcome.failed:
                self.stdout.write(
                    f"{message.subject}: sent {outcome.sent}, failed {outcome.failed}."
                )
        total = sum(outcome.sent for _, outcome in outcomes)
        failed = sum(outcome.failed for _, outcome in outcomes)
        self.stdout.write(f"Sent {total} e-mails; {failed} failed.")
