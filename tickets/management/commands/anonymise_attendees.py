from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tickets.privacy import anonymise_ended_workshops


class Command(BaseCommand):
    help = (
        "Anonymise buyers and attendees of workshops that ended more than --days ago "
        "(orders are kept for accounting; issued invoices keep their billing details). "
        "Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.PRIVACY_ANONYMISE_AFTER_DAYS,
            help="Days after the end of a workshop (default: PRIVACY_ANONYMISE_AFTER_DAYS, "
            f"now {settings.PRIVACY_ANONYMISE_AFTER_DAYS}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be anonymised."
        )

    def handle(self, *args, days, dry_run, **options):
        if days < 0:
            raise CommandError("--days cannot be negative.")
        try:
            counts = anonymise_ended_workshops(days=days, dry_run=dry_run)
        except OverflowError:  # the cutoff would fall before year 1
            raise CommandError("--days is too large.") from None
        verb = "Would anonymise" if dry_run else "Anonymised"
        self.stdout.write(
            f"{verb} {counts['orders']} order(s) and {counts['tickets']} ticket(s) of workshops "
            f"that ended more than {days} day(s) ago."
        )
