"""CSV in and out of the admin (issue 11, items 3 and 4), with django-import-export.

In: staff import the membership system's export on the members' list (safeguarding/membership_import.py).
Out: each busy list exports, as CSV, the rows its viewer may see there (the admin's own scoped queryset, with the
list's filters and search applied) and only the columns its resource names: never DBS data, free text or notes.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.urls import reverse
from import_export import fields, resources, widgets
from import_export.admin import ExportMixin, ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ExportForm
from import_export.tmp_storages import CacheStorage

from mentoring import permissions
from safeguarding.audit import audit
from safeguarding.membership_import import MembershipImportForm, MembershipResource


class MembershipImportAdmin(ImportMixin):
    """The members' list's "Import" button: scheme staff only (coordinators get 403)."""

    resource_classes = [MembershipResource]
    import_form_class = MembershipImportForm
    import_template_name = "admin/accounts/user/membership_import.html"
    # The uploaded file waits in the shared cache between preview and confirmation, so any web process (or
    # host) can take the confirmation; the name is random and the entry removed once used.
    tmp_storage_class = CacheStorage
    import_error_display = ("message",)

    def get_import_formats(self):
        return [CSV]

    def has_import_permission(self, request):
        return permissions.is_scheme_staff(request.user)

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.pop("request", None)
        # One bad row rolls back the whole import: nothing is half-written.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def _import_page(self):
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:accounts_user_import"))

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        try:
            return super().process_import(request, **kwargs)
        except (OSError, ValueError, IndexError, TypeError, UnicodeDecodeError):
            # The preview's file is gone (already imported, or expired) or the confirmation was tampered with.
            self.message_user(
                request, "That upload is no longer available: nothing was saved. Upload the file again.", messages.ERROR
            )
            return self._import_page()

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The records changed between the preview and the confirmation; the transaction was rolled back.
            self.message_user(
                request,
                "Nothing was saved: some rows no longer import cleanly. Upload the file again to see why.",
                messages.ERROR,
            )
            return self._import_page()
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        updated, unchanged = result.totals["update"], result.totals["skip"]
        self.message_user(
            request,
            f"Membership import finished: {updated} member{'s' if updated != 1 else ''} updated, "
            f"{unchanged} unchanged.",
            messages.SUCCESS,
        )


class ScopedExportAdmin(ExportMixin):
    """An "Export" button on the list: the viewer's own rows (the list's queryset, filters and search), as CSV,
    with the columns of `export_resource` only. Whoever may view the list may export it (R-COORD-4)."""

    export_resource = None
    export_form_class = ExportForm  # the resource's columns, all of them: no picking of other fields
    export_select_related: tuple[str, ...] = ()

    def get_export_resource_classes(self, request):
        return [self.export_resource]

    def get_export_formats(self):
        return [CSV]

    def has_export_permission(self, request):
        return self.has_view_or_change_permission(request)

    def get_export_queryset(self, request):
        queryset = super().get_export_queryset(request)
        if self.export_select_related:
            queryset = queryset.select_related(*self.export_select_related)
        return queryset

    def get_export_filename(self, request, queryset, file_format):
        return super().get_export_filename(request, queryset, file_format).lower()

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        # Who took which list out of the platform, and how many rows (personal data leaves with it).
        audit(actor=request.user, action="admin.export", list=self.opts.label, rows=len(data))
        return data


# --- What each list exports (R-COORD-4). Named columns only: no free text (notes, comments, request messages,
# video links), nothing of DBS checks, concerns or complaints. Times in the viewer's zone, 24-hour. ---


def model_field(model, path: str):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model
    return field


def column(model, path: str) -> fields.Field:
    """An export column for the field at `path`: a choice's label, a time in the viewer's zone (24-hour)."""
    field = model_field(model, path)
    name = path.replace("__", " ").replace("_", " ")
    attribute = path
    widget = widgets.Widget()
    if field.choices:
        head, _, last = path.rpartition("__")
        attribute = f"{head}__get_{last}_display" if head else f"get_{last}_display"
    elif isinstance(field, models.DateTimeField):
        widget = widgets.DateTimeWidget(format="%Y-%m-%d %H:%M")
    elif isinstance(field, models.DateField):
        widget = widgets.DateWidget(format="%Y-%m-%d")
    elif isinstance(field, models.BooleanField):
        widget = widgets.BooleanWidget()
    return fields.Field(attribute=attribute, column_name=name, widget=widget, readonly=True)


def export_resource(model, *names: str, people: dict[str, str] | None = None, extra: dict | None = None):
    """A resource for `model` that exports `id`, each person in `people` (column -> attribute path), then `names`
    (field paths), then `extra` columns, and nothing else."""
    attrs: dict = {"id": fields.Field(attribute="pk", column_name="id", readonly=True)}
    for prefix, attribute in (people or {}).items():
        attrs[prefix] = fields.Field(attribute=attribute, column_name=prefix, readonly=True)
        attrs[f"{prefix}_email"] = fields.Field(
            attribute=f"{attribute}__email", column_name=f"{prefix} email", readonly=True
        )
    for name in names:
        attrs[name.replace("__", "_")] = column(model, name)
    attrs.update(extra or {})
    order = tuple(attrs)
    meta = type("Meta", (), {"model": model, "fields": order, "export_order": order})
    return type(f"{model.__name__}Export", (resources.ModelResource,), {**attrs, "Meta": meta})
