"""The one mixin that scopes the admin by role and, for coordinators, to their own Local Networks (R-COORD-1)."""

from __future__ import annotations

from urllib.parse import unquote

from auditlog.models import LogEntry
from auditlog.registry import auditlog as change_log
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse

from accounts.fields import SafeModelChoiceField, SafeModelMultipleChoiceField
from mentoring import permissions
from mentoring.models import LocalNetwork

COORDINATORS = settings.GROUP_COORDINATORS
STAFF = settings.GROUP_STAFF
SAFEGUARDING_LEAD = settings.GROUP_SAFEGUARDING_LEAD

# Who reads the change history kept by django-auditlog (issue 9, item 6). Not coordinators: it holds DBS history.
HISTORY_ROLES = (STAFF, SAFEGUARDING_LEAD)

# Ids a database integer column can hold; anything else in a form or a selection is not a row of ours.
LARGEST_ID = 2**63 - 1


class ScopedNetworkFilter(admin.SimpleListFilter):
    """Filter by Local Network, offering only the networks the viewer covers."""

    title = "Local Network"
    parameter_name = "network"
    network_lookup = "network"

    def lookups(self, request, model_admin):
        networks = LocalNetwork.objects.all()
        if permissions.coordinator_only(request.user):
            networks = networks.filter(pk__in=permissions.coordinated_network_ids(request.user))
        return [(str(n.pk), n.name) for n in networks]

    def network_id(self) -> int | None:
        """The chosen network's id; None when none is chosen or the value is no id a database column holds."""
        value = self.value()
        return int(value) if value and value.isdigit() and int(value) <= LARGEST_ID else None

    def queryset(self, request, queryset):
        if self.value() and self.network_id() is None:
            return queryset.none()  # a tampered value: no network, so no rows (never a database error)
        if self.network_id() is not None:
            return queryset.filter(**{self.network_lookup: self.network_id()})
        return queryset


class SafeSelectionMixin:
    """A selection that is not a list of ids (tampered with, or a stale page) is refused with a message."""

    def response_action(self, request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if any(not s.isdigit() or int(s) > LARGEST_ID for s in selected):
            self.message_user(request, "That selection is not valid; reload the page and try again.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)


class RoleScopedAdmin(SafeSelectionMixin, admin.ModelAdmin):
    """Permissions by role (group) rather than per-model permission rows.

    view_roles / change_roles name the groups that may see / add and change.
    A coordinator (who is not also staff) sees only rows that `coordinator_scope`
    finds in networks they coordinate; by default that is the row's own network
    at `network_path`. Another network's id gives "not found". Nothing is deleted
    from the admin. Actions declare the permission they need, and services check
    the person acting again.
    """

    class Media:
        # Names the member search's combobox where a model admin has autocomplete_fields (a no-op elsewhere).
        js = ("js/admin-autocomplete-labels.js",)

    view_roles: tuple[str, ...] = ()
    change_roles: tuple[str, ...] = ()
    network_path: str | None = None
    scheme_wide = False  # rows that belong to no network (schemes, documents, lists): every viewer sees all

    def _holds(self, request, roles) -> bool:
        return permissions.holds_role(request.user, *roles)

    def has_module_permission(self, request):
        return self._holds(request, self.view_roles + self.change_roles)

    def has_view_permission(self, request, obj=None):
        return self._holds(request, self.view_roles + self.change_roles)

    def has_change_permission(self, request, obj=None):
        return self._holds(request, self.change_roles)

    def has_add_permission(self, request):
        return self._holds(request, self.change_roles)

    def has_delete_permission(self, request, obj=None):
        return False

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another network's id (or no such id) is simply not found: 404, not a hint.
        raise Http404(f"No {opts.verbose_name} with that id.")

    def coordinator_only(self, request) -> bool:
        return permissions.coordinator_only(request.user)

    def history_view(self, request, object_id, extra_context=None):
        """The object's "History": for a tracked model and a reader of HISTORY_ROLES, every recorded change
        (who, when, what, from and to), newest first, whoever made it and wherever (admin, member pages, jobs)."""
        if not change_log.contains(self.model) or not permissions.holds_role(request.user, *HISTORY_ROLES):
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with that id.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = LogEntry.objects.get_for_object(obj).select_related("actor").order_by("-timestamp", "-pk")
        return admin_page(
            self,
            request,
            "admin/change_history.html",
            title=f"Change history: {obj}",
            object=obj,
            entries=Paginator(entries, 50).get_page(request.GET.get("page")),
        )

    def coordinator_scope(self, coordinator):
        """The condition (Q or Exists) a row meets when it belongs to one of `coordinator`'s networks."""
        if self.network_path is None:
            raise NotImplementedError(f"{type(self).__name__} shows coordinators rows but says nothing of scope.")
        return permissions.network_in_scope(coordinator, network=self.network_path)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.coordinator_only(request) and not self.scheme_wide:
            qs = qs.filter(self.coordinator_scope(request.user))
        return qs

    def get_object(self, request, object_id, from_field=None):
        if from_field is None and not str(object_id).isdigit():
            return None  # not an id at all: "not found", never a database error
        if from_field is None and int(object_id) > LARGEST_ID:
            return None
        return super().get_object(request, object_id, from_field)

    def member_choices(self, request):
        """The members a coordinator may pick: those with a membership in one of their networks."""
        users = get_user_model().objects.all()
        if self.coordinator_only(request):
            users = users.filter(
                permissions.membership_in_scope(request.user, member="pk"),
            )
        return users

    def network_choices(self, request):
        networks = LocalNetwork.objects.all()
        if self.coordinator_only(request):
            networks = networks.filter(pk__in=permissions.coordinated_network_ids(request.user))
        return networks

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A coordinator picks members and networks from their own networks only; an impossible id is a form error.
        kwargs.setdefault("form_class", SafeModelChoiceField)
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = self.member_choices(request)
        elif db_field.related_model is LocalNetwork:
            kwargs["queryset"] = self.network_choices(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", SafeModelMultipleChoiceField)
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = self.member_choices(request)
        elif db_field.related_model is LocalNetwork:
            kwargs["queryset"] = self.network_choices(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedInlineFormSet(BaseInlineFormSet):
    """Each form's hidden id field offers only the rows the formset shows, not every row of the model."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if self._pk_field.name in form.fields:
            form.fields[self._pk_field.name].queryset = self.get_queryset()


class ScopedInline(admin.TabularInline):
    """An inline that shows a coordinator only the rows in their own networks (the row's `network_path`)."""

    network_path = "network"
    formset = ScopedInlineFormSet

    def has_view_permission(self, request, obj=None):
        # By role, like the admins around it: the role groups hold no per-model permission rows.
        return permissions.holds_role(request.user, COORDINATORS, STAFF, SAFEGUARDING_LEAD)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if permissions.coordinator_only(request.user):
            qs = qs.filter(permissions.network_in_scope(request.user, network=self.network_path))
        return qs


def view_on_site(request, content_type_id: int, object_id: str):
    """The admin's "view on site" redirect, answering 404 for an object the viewer cannot see in the admin
    (Django's own redirect looks the object up with no regard to who asks)."""
    content_type = ContentType.objects.filter(pk=content_type_id).first()
    model = content_type.model_class() if content_type is not None else None
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        raise Http404("Not found.")
    if model_admin.get_object(request, object_id) is None:
        raise Http404("Not found.")
    return contenttype_views.shortcut(request, content_type_id, object_id)


def admin_page(model_admin, request, template: str, *, title: str, form=None, **context) -> TemplateResponse:
    """Render one of our own admin pages with the admin's frame; a form with errors answers 400."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "opts": model_admin.model._meta,
        **context,
    }
    status = 400 if form is not None and form.errors else 200
    return TemplateResponse(request, template, context, status=status)
