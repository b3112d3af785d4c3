from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "safeguarding"

    def ready(self):
        # Imported here: django-auditlog's registry loads models, which an app's module may not do at import time.
        from safeguarding import change_history  # noqa: PLC0415

        change_history.register_all()
