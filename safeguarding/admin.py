from django.contrib import admin

from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from safeguarding import services
from safeguarding.models import AuditEvent, DBSCheck, TrainingRecord


@admin.register(TrainingRecord)
class TrainingRecordAdmin(RoleScopedAdmin):
    change_roles = (COORDINATORS, STAFF)
    network_path = "user__memberships__network"
    list_display = ("user", "kind", "completed_on", "expires_on", "recorded_by")
    list_filter = ("kind",)
    search_fields = ("user__email", "user__first_name", "user__last_name")
    fields = ("user", "kind", "completed_on", "expires_on", "notes")
    autocomplete_fields = ()
    date_hierarchy = "completed_on"

    def save_model(self, request, obj, form, change):
        services.training_record_save(record=obj, recorded_by=request.user)


@admin.register(DBSCheck)
class DBSCheckAdmin(RoleScopedAdmin):
    # Criminal-offence data: never coordinators (R-SAFE-3).
    change_roles = (STAFF, SAFEGUARDING_LEAD)
    list_display = ("user", "level", "status", "requested_on", "cleared_on")
    list_filter = ("status", "level")
    search_fields = ("user__email", "user__last_name")
    fields = ("user", "level", "level_reason", "status", "certificate_number", "requested_on", "cleared_on")

    def save_model(self, request, obj, form, change):
        previous = form.initial.get("status") if change else None
        services.dbs_check_save(check=obj, recorded_by=request.user, previous_status=previous)


@admin.register(AuditEvent)
class AuditEventAdmin(RoleScopedAdmin):
    view_roles = (STAFF, SAFEGUARDING_LEAD)
    list_display = ("at", "actor", "action", "target_user", "object_repr")
    list_filter = ("action",)
    search_fields = ("target_user__email", "actor__email", "object_repr")
    readonly_fields = ("at", "actor", "action", "target_user", "object_repr", "detail")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
