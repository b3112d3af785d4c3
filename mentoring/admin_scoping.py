"""The one mixin that scopes the admin by role and, for coordinators, to their own Local Networks (R-COORD-1)."""

from django.conf import settings
from django.contrib import admin
from django.http import Http404

COORDINATORS = settings.GROUP_COORDINATORS
STAFF = settings.GROUP_STAFF
SAFEGUARDING_LEAD = settings.GROUP_SAFEGUARDING_LEAD


class RoleScopedAdmin(admin.ModelAdmin):
    """Permissions by role (group) rather than per-model permission rows.

    view_roles / change_roles name the groups that may see / add and change.
    network_path is the lookup from this model to LocalNetwork; a coordinator
    (who is not also staff) sees only rows in networks they coordinate, so
    another network's id gives "not found". Nothing is deleted from the admin.
    """

    view_roles: tuple[str, ...] = ()
    change_roles: tuple[str, ...] = ()
    network_path: str | None = None

    def _holds(self, request, roles) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (user.is_superuser or any(user.in_group(r) for r in roles))

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
        user = request.user
        return not user.is_superuser and not user.in_group(STAFF) and user.in_group(COORDINATORS)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if self.network_path and self.coordinator_only(request):
            qs = qs.filter(**{f"{self.network_path}__coordinators": request.user}).distinct()
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A coordinator picks members and networks from their own networks only.
        if self.coordinator_only(request):
            from django.contrib.auth import get_user_model

            from mentoring.models import LocalNetwork

            if db_field.related_model is get_user_model():
                kwargs["queryset"] = (
                    get_user_model().objects.filter(memberships__network__coordinators=request.user).distinct()
                )
            elif db_field.related_model is LocalNetwork:
                kwargs["queryset"] = LocalNetwork.objects.filter(coordinators=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
