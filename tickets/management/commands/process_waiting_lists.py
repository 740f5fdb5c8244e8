from django.core.management.base import BaseCommand

from tickets.services.waitlist import process_waiting_lists


class Command(BaseCommand):
    help = (
        "End waiting-list offers not used in time, offer every free seat of a sold-out ticket "
        "type to the next in line, and forget addresses never confirmed. Safe to run twice at "
        "once and after a gap; run it every minute."
    )

    def handle(self, *args, **options):
        done = process_waiting_lists()
        self.stdout.write(
            f"Expired {done.expired} offers; sent {done.offered} offers; "
            f"forgot {done.forgotten} unconfirmed addresses."
        )
