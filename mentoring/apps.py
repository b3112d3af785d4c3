from django.apps import AppConfig


class MentoringConfig(AppConfig):
    name = "mentoring"

    def ready(self):
        from django.db.models.signals import post_delete, post_save  # noqa: PLC0415

        from mentoring.closure import close_dates_changed  # noqa: PLC0415
        from mentoring.models import Scheme  # noqa: PLC0415

        post_save.connect(close_dates_changed, sender=Scheme, dispatch_uid="closure-close-dates-save")
        post_delete.connect(close_dates_changed, sender=Scheme, dispatch_uid="closure-close-dates-delete")
