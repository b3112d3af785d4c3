from auditlog.models import LogEntry
from auditlog.render import render_logentry_changes_html
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from mentoring import permissions
from mentoring.admin_scoping import COORDINATORS, HISTORY_ROLES, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from safeguarding import complaints, concerns, confidential, services
from safeguarding.change_history import LEAD_ONLY
from safeguarding.models import AuditEvent, Complaint, DBSCheck, TrainingRecord


@admin.register(TrainingRecord)
class TrainingRecordAdmin(RoleScopedAdmin):
    """Training records; a coordinator sees those of members with a membership in one of their networks."""

    change_roles = (COORDINATORS, STAFF)
    list_display = ("user", "kind", "completed_on", "expires_on", "recorded_by")
    list_filter = ("kind",)
    list_select_related = ("user", "recorded_by")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    fields = ("user", "kind", "completed_on", "expires_on", "notes")
    date_hierarchy = "completed_on"

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="user")

    def save_model(self, request, obj, form, change):
        services.training_record_save(record=obj, actor=request.user)


@admin.register(DBSCheck)
class DBSCheckAdmin(RoleScopedAdmin):
    # Criminal-offence data: never coordinators (R-SAFE-3).
    change_roles = (STAFF, SAFEGUARDING_LEAD)
    scheme_wide = True
    list_display = ("user", "level", "status", "requested_on", "cleared_on")
    list_filter = ("status", "level")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__last_name")
    fields = ("user", "level", "level_reason", "status", "certificate_number", "requested_on", "cleared_on")

    def save_model(self, request, obj, form, change):
        services.dbs_check_save(check=obj, actor=request.user)


# django-auditlog registers its own admin for the change history; ours is read-only and by role (HISTORY_ROLES).
if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeHistoryAdmin(RoleScopedAdmin):
    """Every recorded change of the tracked records (issue 9, item 6), across the scheme. Read-only; staff and the
    Safeguarding Lead only, never coordinators (it holds DBS history). Each record's own "History" shows its part."""

    view_roles = HISTORY_ROLES
    scheme_wide = True
    list_display = ("timestamp", "actor", "action", "content_type", "object_repr")
    list_filter = ("action", "content_type")
    list_select_related = ("actor", "content_type")
    search_fields = ("object_repr", "actor__email", "actor__last_name")
    date_hierarchy = "timestamp"
    fields = ("timestamp", "actor", "action", "content_type", "object_pk", "object_repr", "changes_table")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not concerns.may_see_concerns(request.user):
            # Concerns are the Safeguarding Lead's alone: staff do not learn from here that one exists.
            lead_only = [ContentType.objects.get_for_model(apps.get_model(label)) for label in LEAD_ONLY]
            qs = qs.exclude(content_type__in=lead_only)
        return qs

    @admin.display(description="Changes")
    def changes_table(self, entry):
        return render_logentry_changes_html(entry)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(RoleScopedAdmin):
    view_roles = (STAFF, SAFEGUARDING_LEAD)
    scheme_wide = True
    list_display = ("at", "actor", "action", "target_user", "object_repr")
    list_filter = ("action",)
    list_select_related = ("actor", "target_user")
    search_fields = ("target_user__email", "actor__email", "object_repr")
    readonly_fields = ("at", "actor", "action", "target_user", "object_repr", "detail")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not concerns.may_see_concerns(request.user):
            # Concerns are the Safeguarding Lead's alone: even that one was raised, or read, is not for staff.
            qs = qs.exclude(action__startswith=concerns.AUDIT_PREFIX)
        return qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ComplaintAdminForm(forms.ModelForm):
    class Meta:
        model = Complaint
        fields = ("status", "outcome")

    def clean(self):
        cleaned = super().clean()
        if "status" in cleaned:
            # Checked against the stored complaint: the form has already copied the new values onto the instance.
            stored = Complaint.objects.get(pk=self.instance.pk)
            complaints.status_change_check(stored, cleaned["status"], cleaned.get("outcome", ""))
        return cleaned


@admin.register(Complaint)
class ComplaintAdmin(RoleScopedAdmin):
    """Complaints (R-SAFE-4): coordinators of the complainant's networks and staff move them on."""

    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    form = ComplaintAdminForm
    list_display = ("__str__", "complainant", "about", "status", "created_at", "handled_by")
    list_filter = ("status", "about")
    list_select_related = ("complainant", "handled_by")
    search_fields = ("complainant__email", "complainant__last_name")
    fields = (
        "complainant",
        "about",
        "person",
        "pairing",
        "reported_message",
        "text",
        "created_at",
        "status",
        "outcome",
        "handled_by",
        "status_changed_at",
    )
    readonly_fields = (
        "complainant",
        "about",
        "person",
        "pairing",
        "reported_message",
        "text",
        "created_at",
        "handled_by",
        "status_changed_at",
    )

    @admin.display(description="reported message")
    def reported_message(self, obj):
        """When and from whom, never the text (R-MSG-5); staff read the conversation through the access page."""
        message = obj.message
        if message is None:
            return "-"
        return f"From {message.sender.get_full_name()}, {timezone.localtime(message.created_at):%-d %b %Y, %H:%M}"

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.message_id and confidential.may_read_confidential(request.user):
            fields.insert(fields.index("reported_message") + 1, "read_conversation")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "read_conversation")

    @admin.display(description="conversation")
    def read_conversation(self, obj):
        url = reverse("conversation_access", args=[obj.message.conversation_id])
        return format_html(
            '<a href="{}?complaint={}">Read the conversation</a> (recorded, and the members see it)', url, obj.pk
        )

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="complainant")

    def has_add_permission(self, request):
        return False  # members raise complaints on the site

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        # No one handles a complaint about themselves.
        return allowed and (obj is None or complaints.may_handle(request.user, obj))

    def save_model(self, request, obj, form, change):
        complaints.complaint_status_set(complaint_id=obj.pk, status=obj.status, outcome=obj.outcome, actor=request.user)
