from auditlog.models import LogEntry
from auditlog.render import render_logentry_changes_html
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from mentoring import permissions
from mentoring.admin_scoping import (
    COORDINATORS,
    HISTORY_ROLES,
    SAFEGUARDING_LEAD,
    STAFF,
    RoleScopedAdmin,
    ScopedInline,
    ScopedNetworkFilter,
)
from safeguarding import complaints, concerns, confidential, services, training
from safeguarding.change_history import LEAD_ONLY
from safeguarding.models import (
    AuditEvent,
    Complaint,
    TrainingBooking,
    TrainingCourse,
    TrainingEvent,
    TrainingRecord,
)

# DBS checks are registered by mentoring/dbs_admin.py: their withdrawal action calls mentoring.ending, which
# safeguarding may not import (import-linter).


def add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: each field's message at its field, the rest at the top."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error)


@admin.register(TrainingRecord)
class TrainingRecordAdmin(RoleScopedAdmin):
    """Training records; a coordinator sees those of members with a membership in one of their networks."""

    change_roles = (COORDINATORS, STAFF)
    list_display = ("user", "kind", "course", "completed_on", "expires_on", "recorded_by")
    list_filter = ("kind",)
    list_select_related = ("user", "recorded_by", "course")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    fields = ("user", "kind", "course", "completed_on", "expires_on", "notes")
    date_hierarchy = "completed_on"
    # Issue 11, item 4: find the member by name or email rather than scroll every member. The search runs through
    # the members' admin, so a coordinator finds only members of their own networks.
    autocomplete_fields = ("user",)

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="user")

    def save_model(self, request, obj, form, change):
        services.training_record_save(record=obj, actor=request.user)


@admin.register(TrainingCourse)
class TrainingCourseAdmin(RoleScopedAdmin):
    """The training catalogue (R-ELIG-3, R-COORD-3): staff keep it; coordinators read it to add events."""

    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    scheme_wide = True
    list_display = ("name", "kind", "delivery", "validity_years", "is_offered")
    list_filter = ("kind", "delivery", "is_offered")
    fields = ("name", "kind", "delivery", "validity_years", "description", "is_offered")


def local_date_time_field(label: str) -> forms.DateTimeField:
    """One labelled date-and-time input (the admin's split date and time boxes have no labels of their own), typed
    in the viewer's time zone."""
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your own time zone, 24-hour.",
    )


class TrainingEventAdminForm(forms.ModelForm):
    starts_at = local_date_time_field("Starts at")
    ends_at = local_date_time_field("Ends at")

    class Meta:
        model = TrainingEvent
        fields = ("course", "network", "starts_at", "ends_at", "place", "capacity", "notes")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            # The rules the service applies, on the event as it would be saved (the form copies the values later).
            values = {name: cleaned.get(name, getattr(self.instance, name, None)) for name in self.Meta.fields}
            candidate = TrainingEvent(pk=self.instance.pk, **values)
            try:
                training.event_problems(candidate)
            except ValidationError as problems:
                add_errors(self, problems)
        return cleaned


class TrainingBookingInline(ScopedInline):
    """Who booked the event; attendance is marked on the Training bookings list (an action)."""

    model = TrainingBooking
    network_path = "event__network"
    extra = 0
    fields = ("member", "status", "booked_at", "cancelled_at", "attended_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class WhenFilter(admin.SimpleListFilter):
    """Events still to come (R-COORD-2, the workbench's "training events coming up")."""

    title = "when"
    parameter_name = "when"
    UPCOMING = "upcoming"

    def lookups(self, request, model_admin):
        return [(self.UPCOMING, "Coming up")]

    def queryset(self, request, queryset):
        if self.value() == self.UPCOMING:
            return queryset.filter(starts_at__gt=timezone.now())
        return queryset


@admin.register(TrainingEvent)
class TrainingEventAdmin(RoleScopedAdmin):
    """Training events (R-COORD-3): a coordinator adds and changes those of their own networks. Times are typed
    and shown in the viewer's own time zone and stored in UTC."""

    change_roles = (COORDINATORS, STAFF)
    view_roles = (SAFEGUARDING_LEAD,)
    network_path = "network"
    form = TrainingEventAdminForm
    inlines = (TrainingBookingInline,)
    list_display = ("course", "network", "starts_at", "ends_at", "place", "capacity", "places_booked")
    list_filter = (WhenFilter, "course", ScopedNetworkFilter)
    list_select_related = ("course", "network")
    search_fields = ("place", "course__name")
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        taking = Q(bookings__status__in=TrainingBooking.HOLDS_A_PLACE)
        # Ordered again: a grouped query drops the model's ordering.
        return (
            super().get_queryset(request).annotate(booked=Count("bookings", filter=taking)).order_by("starts_at", "pk")
        )

    @admin.display(description="places booked", ordering="booked")
    def places_booked(self, obj):
        return obj.booked

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = TrainingCourse.objects.filter(is_offered=True).exclude(
                delivery=TrainingCourse.Delivery.ELEARNING
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        training.training_event_save(event=obj, actor=request.user)


class BookingNetworkFilter(ScopedNetworkFilter):
    network_lookup = "event__network"


@admin.register(TrainingBooking)
class TrainingBookingAdmin(RoleScopedAdmin):
    """Members' places on events. Members book on the site; the coordinator marks who attended, which records
    their training (R-COORD-3)."""

    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    network_path = "event__network"
    list_display = ("member", "event", "status", "booked_at", "attended_at", "marked_by")
    list_filter = ("status", "event__course", BookingNetworkFilter)
    list_select_related = ("member", "event__course", "event__network", "marked_by")
    search_fields = ("member__email", "member__first_name", "member__last_name")
    readonly_fields = (
        "event",
        "member",
        "status",
        "booked_at",
        "cancelled_at",
        "attended_at",
        "marked_by",
        "training_record",
    )
    fields = readonly_fields
    actions = ["mark_attended"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_attendance_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.action(
        description="Mark the selected members as attended (records their training)", permissions=["attendance"]
    )
    def mark_attended(self, request, queryset):
        done, refused = [], []
        for booking in queryset.select_related("member"):
            try:
                training.training_attendance_mark(booking_id=booking.pk, actor=request.user)
            except ValidationError as error:
                refused.append(" ".join(error.messages))
            else:
                done.append(booking.member.get_full_name())
        if done:
            self.message_user(request, f"Attended, training recorded: {', '.join(done)}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)


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


class OpenComplaintFilter(admin.SimpleListFilter):
    """Complaints still to be dealt with: received or being investigated (R-COORD-2)."""

    title = "open"
    parameter_name = "open"
    YES = "yes"

    def lookups(self, request, model_admin):
        return [(self.YES, "Received or being investigated")]

    def queryset(self, request, queryset):
        if self.value() == self.YES:
            return queryset.filter(status__in=Complaint.OPEN)
        return queryset


@admin.register(Complaint)
class ComplaintAdmin(RoleScopedAdmin):
    """Complaints (R-SAFE-4): coordinators of the complainant's networks and staff move them on."""

    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    form = ComplaintAdminForm
    list_display = ("__str__", "complainant", "about", "status", "created_at", "handled_by")
    list_filter = (OpenComplaintFilter, "status", "about")
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
