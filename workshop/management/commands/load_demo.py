from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from workshop import demo


class Command(BaseCommand):
    help = (
        "Load the demo workshop and every app's demo content: create what is missing, never "
        "change what exists. Safe to run again."
    )

    @transaction.atomic
    def handle(self, *args, **options):
        workshop = demo.load()
        for path in settings.DEMO_LOADERS:
            import_string(path)(workshop)
        self.stdout.write(self.style.SUCCESS(f"Demo content loaded: {workshop.title}"))
        if moved_from := demo.moved_from(workshop):
            self.stdout.write(
                f"It took place on {moved_from:%-d %B %Y}; the demo holds it on "
                f"{workshop.local_starts_at:%-d %B %Y} so that tickets can be bought."
            )
