import importlib
import random
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from workshop import bench_data
from workshop.models import Workshop


def app_modules():
    """Return every other app's ``bench_data`` module, in INSTALLED_APPS order.

    Looking them up by name keeps the dependency from workshop to the other apps one-way.
    """
    return [
        importlib.import_module(f"{config.name}.bench_data")
        for config in apps.get_app_configs()
        if config.name != "workshop" and module_has_submodule(config.module, "bench_data")
    ]


class Command(BaseCommand):
    help = (
        "Fill the configured database with generated benchmark data (small or large). "
        "Meant for an empty benchmark database: --flush first deletes every workshop, talk, "
        "speaker, order and page in it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(bench_data.SIZES), default="small")
        parser.add_argument("--seed", type=int, default=2022)
        parser.add_argument(
            "--flush", action="store_true", help="Delete the existing content first."
        )

    @transaction.atomic
    def handle(self, *args, size, seed, flush, **options):
        modules = app_modules()
        if flush:
            for module in reversed([bench_data, *modules]):
                module.flush()
        elif Workshop.objects.exists():
            raise CommandError(
                "The database already has a workshop; use --flush to replace its content "
                "with benchmark data (only in a benchmark database)."
            )
        started = time.monotonic()
        rng = random.Random(seed)
        numbers = bench_data.SIZES[size]
        workshop = bench_data.generate(numbers, rng)
        for module in modules:
            module.generate(workshop, numbers, rng)
        self.stdout.write(
            self.style.SUCCESS(
                f"Bench data ({size}) generated in {time.monotonic() - started:.1f} s: "
                + ", ".join(f"{value} {key}" for key, value in numbers.items())
            )
        )
