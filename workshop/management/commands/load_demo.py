import importlib

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from workshop import demo


class Command(BaseCommand):
    help = "Load the demo workshop and every app's demo content. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        workshop = demo.load()
        # Each app may ship a ``demo`` module with ``load(workshop)``; looking them up
        # by name keeps the dependency from workshop to the other apps one-way.
        for app_config in apps.get_app_configs():
            if app_config.name == "workshop" or not module_has_submodule(app_config.module, "demo"):
                continue
            module = importlib.import_module(f"{app_config.name}.demo")
            module.load(workshop)
        self.stdout.write(self.style.SUCCESS(f"Demo content loaded: {workshop.title}"))
