from django.core.management.base import BaseCommand

from tickets.services.stranded import PROCESSING_LIMIT, settle_processing_payments


class Command(BaseCommand):
    help = (
        f"Ask Stripe how each card payment still processing {PROCESSING_LIMIT.days} days after "
        "it began has ended (a webhook event may have been lost) and record it: paid, or failed "
        "and its seats back on sale. The task workers run it every hour (PERIODIC_TASKS); "
        "this runs it by hand. Safe to run twice at once."
    )

    def handle(self, *args, **options):
        counts = settle_processing_payments()
        self.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()) + ".")
