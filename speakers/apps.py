from django.apps import AppConfig


class SpeakersConfig(AppConfig):
    name = "speakers"

    def ready(self):
        from speakers import signals

        signals.connect()
