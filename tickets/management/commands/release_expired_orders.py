from django.core.management.base import BaseCommand

from tickets.services import stripe_checkout


class Command(BaseCommand):
    help = (
        "Release the seats of card orders whose reservation ran out, expiring their "
        "Stripe Checkout Sessions first. The task workers run it every 5 minutes."
    )

    def handle(self, *args, **options):
        released = stripe_checkout.release_expired_orders()
        self.stdout.write(f"Released {released} expired orders.")
