from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        # Models are not loaded when this module is imported: the signals module needs them.
        from matching import signals  # noqa: PLC0415

        signals.connect()
