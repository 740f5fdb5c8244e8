from django.core.management.base import BaseCommand

from workshop.roles import ensure_roles


class Command(BaseCommand):
    help = (
        "Create or update the organisers' groups (door staff, programme, finance, reviewer, "
        "organiser) so that each holds exactly the permissions workshop/roles.py gives it. "
        "Safe to repeat; run it after every deployment."
    )

    def handle(self, *args, **options):
        for group in ensure_roles():
            count = group.permissions.count()
            self.stdout.write(f"{group.name}: {count} permissions")
