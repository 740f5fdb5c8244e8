from django.core.management.base import BaseCommand

from tickets.services.invoice_terms import expire_overdue_invoice_orders, send_payment_reminders


class Command(BaseCommand):
    help = (
        "Remind the buyers of unpaid invoice orders before their due date, and expire those "
        "still unpaid after the grace period (their seats go back on sale). Safe to run "
        "twice at once and after a gap; the task workers run it every hour (PERIODIC_TASKS)."
    )

    def handle(self, *args, **options):
        expired = expire_overdue_invoice_orders()
        reminded = send_payment_reminders()
        self.stdout.write(f"Expired {expired} unpaid invoice orders; sent {reminded} reminders.")
