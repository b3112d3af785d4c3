from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "safeguarding"

    def ready(self):
        # Imported here: django-auditlog's registry loads models, which an app's module may not do at import time.
        from safeguarding import change_history  # noqa: PLC0415

        change_history.register_all()

        from django.db.models.signals import post_delete, post_save  # noqa: PLC0415

        from mentoring.models import TermsVersion  # noqa: PLC0415
        from safeguarding.eligibility import documents_changed  # noqa: PLC0415

        post_save.connect(documents_changed, sender=TermsVersion, dispatch_uid="eligibility-documents-save")
        post_delete.connect(documents_changed, sender=TermsVersion, dispatch_uid="eligibility-documents-delete")

        # The table of eligible memberships follows every write the rules read (after the line above).
        from safeguarding import eligible_table  # noqa: PLC0415

        eligible_table.connect()
