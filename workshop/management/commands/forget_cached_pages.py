from django.core.management.base import BaseCommand

from workshop.cache import forget_cached_pages


class Command(BaseCommand):
    help = (
        "Make every cached public page stale on every app server. Needed only after changes "
        "that bypass the site's code, such as restoring a backup or editing rows with SQL."
    )

    def handle(self, *args, **options):
        forget_cached_pages()
        self.stdout.write("Cached pages will be rendered afresh on their next request.")
