"""Serve the local Stripe stand-in so that card payment can be tried in development."""

import signal
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from tickets import payments
from tickets.stripe_standin import StripeStandIn
from workshop.worker import ParentWatch


def standin_port():
    """Return the port of STRIPE_API_BASE, which must be a local http:// address."""
    address = urlsplit(settings.STRIPE_API_BASE)
    if settings.PRODUCTION or not payments.uses_standin():
        raise CommandError(
            "The Stripe stand-in runs in development only, with STRIPE_API_BASE set to "
            f"http://127.0.0.1:<port> (now {settings.STRIPE_API_BASE!r})."
        )
    if address.scheme != "http" or address.hostname != "127.0.0.1" or not address.port:
        raise CommandError(
            f"STRIPE_API_BASE must be http://127.0.0.1:<port> for the stand-in, not "
            f"{settings.STRIPE_API_BASE!r}."
        )
    return address.port


class Command(BaseCommand):
    help = (
        "Serve a local stand-in for Stripe at STRIPE_API_BASE (development only): its payment "
        "page moves no money and sends signed events to the site's webhook (make run)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stop-with-parent",
            action="store_true",
            help="Stop when the process that started this one ends (make run).",
        )

    def handle(self, *args, stop_with_parent, **options):
        port = standin_port()
        if not (settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET):
            raise CommandError("Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET for the stand-in.")
        webhook_url = settings.SITE_URL + reverse("tickets:stripe_webhook")
        standin = StripeStandIn(
            api_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            webhook_url=webhook_url,
        )
        try:
            standin.start(port)
        except OSError as error:
            raise CommandError(
                f"Cannot serve the Stripe stand-in on port {port}: {error}"
            ) from error
        stopped = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        if stop_with_parent:
            ParentWatch().start()
        self.stdout.write(
            f"Stripe stand-in on {standin.url} (test payments, no money moves); "
            f"events go to {webhook_url}",
            ending="\n",
        )
        self.stdout.flush()
        try:
            while not stopped.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            standin.stop()
