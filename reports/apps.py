from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self):
        # The admin's home page is the coordinator's workbench (R-COORD-2). Hooked here because only the top layer
        # may read every app's queues; imported here because the workbench module needs the models loaded.
        from django.contrib import admin  # noqa: PLC0415

        from reports.workbench import admin_index_with_workbench  # noqa: PLC0415

        if not getattr(admin.site, "workbench_installed", False):
            admin.site.index = admin_index_with_workbench(admin.site.index)
            admin.site.index_template = "admin/workbench_index.html"
            admin.site.workbench_installed = True
