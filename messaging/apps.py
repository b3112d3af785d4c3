from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self):
        # Models are not loaded when this module is imported: the signals module needs them.
        from messaging import signals  # noqa: PLC0415

        signals.connect()
