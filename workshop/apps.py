from django.apps import AppConfig


class WorkshopConfig(AppConfig):
    name = "workshop"
    verbose_name = "Workshop"

    def ready(self):
        from workshop import signals

        signals.connect()
