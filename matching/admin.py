"""The matching admin: the lists mentors choose from, profile approval, requests, reports and blocked pairings.

A coordinator sees each row through the network of the membership it belongs to:
a mentor profile through the mentor's membership as a mentor, a request through
the mentee's membership in the request's scheme.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef

from matching import services
from matching.models import (
    ConflictBlock,
    ConflictDeclaration,
    ExpertiseArea,
    MenteeProfile,
    MentorProfile,
    MentorshipRequest,
    ProfileReport,
    Sector,
)
from mentoring import permissions
from mentoring.admin_csv import ScopedExportAdmin, export_resource
from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin, ScopedNetworkFilter
from mentoring.models import Role, SchemeMembership


class MembershipNetworkFilter(ScopedNetworkFilter):
    """Rows whose member (at `member_lookup`) holds `role` in the chosen Local Network (issue 11, item 4)."""

    member_lookup = "user"
    role = Role.MENTOR

    def queryset(self, request, queryset):
        if self.value() and self.network_id() is None:
            return queryset.none()
        if self.network_id() is not None:
            memberships = SchemeMembership.objects.filter(
                user=OuterRef(self.member_lookup), role=self.role, network=self.network_id()
            )
            return queryset.filter(Exists(memberships))
        return queryset


class RequestNetworkFilter(MembershipNetworkFilter):
    member_lookup = "mentee"
    role = Role.MENTEE


@admin.register(Sector, ExpertiseArea)
class ListAdmin(RoleScopedAdmin):
    """Coordinators manage the lists mentors choose from."""

    change_roles = (COORDINATORS, STAFF)
    scheme_wide = True
    search_fields = ("name",)


@admin.register(MentorProfile)
class MentorProfileAdmin(ScopedExportAdmin, RoleScopedAdmin):
    """The approval queue (R-PROFILE-3, R-COORD-2): filter on "Waiting for approval"."""

    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    list_display = ("user", "role_title", "sector", "status", "availability", "capacity", "submitted_at")
    list_filter = ("status", "availability", "sector", MembershipNetworkFilter)
    list_select_related = ("user", "sector")
    search_fields = ("user__email", "user__first_name", "user__last_name", "role_title")
    readonly_fields = (
        "user",
        "role_title",
        "work_history",
        "sector",
        "expertise",
        "languages",
        "country",
        "capacity",
        "availability",
        "status",
        "reviewed_by",
        "reviewed_at",
        "submitted_at",
    )
    fields = (*readonly_fields, "review_note")
    actions = ["approve", "request_changes"]
    # Issue 11, item 4 (R-COORD-4): the queue by date, and its CSV (no work history or review notes).
    date_hierarchy = "submitted_at"
    export_resource = export_resource(
        MentorProfile,
        "role_title",
        "sector__name",
        "status",
        "availability",
        "capacity",
        "submitted_at",
        "reviewed_at",
        people={"mentor": "user"},
    )

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="user", role=Role.MENTOR)

    def has_add_permission(self, request):
        return False

    def has_review_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    def save_model(self, request, obj, form, change):
        # Only the review note is editable here; approval goes through the actions.
        services.mentor_profile_note_save(profile_id=obj.pk, note=obj.review_note, actor=request.user)

    def _review(self, request, queryset, *, approve: bool) -> None:
        done = 0
        for profile in queryset:
            try:
                services.mentor_profile_review(
                    profile_id=profile.pk, approve=approve, note=profile.review_note, actor=request.user
                )
            except ValidationError as refused:
                self.message_user(request, f"{profile}: {' '.join(refused.messages)}", messages.ERROR)
            else:
                done += 1
        verb = "Approved" if approve else "Asked for changes on"
        self.message_user(request, f"{verb} {done} profile{'s' if done != 1 else ''}.", messages.SUCCESS)

    @admin.action(description="Approve the selected profiles for listing", permissions=["review"])
    def approve(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description="Ask for changes (sends each profile's review note)", permissions=["review"])
    def request_changes(self, request, queryset):
        self._review(request, queryset, approve=False)


@admin.register(MenteeProfile)
class MenteeProfileAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF)
    list_display = ("user", "sector", "language", "country", "updated_at")
    list_select_related = ("user", "sector", "language")

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="user", role=Role.MENTEE)


class DeclarationInline(admin.TabularInline):
    model = ConflictDeclaration
    extra = 0
    can_delete = False
    readonly_fields = ("declared_by", "kind", "details", "manageable", "declared_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MentorshipRequest)
class MentorshipRequestAdmin(ScopedExportAdmin, RoleScopedAdmin):
    """Requests in the coordinator's networks; oldest pending first shows who waits too long (R-COORD-2)."""

    view_roles = (COORDINATORS, STAFF)
    list_display = ("mentee", "mentor", "scheme", "status", "created_at", "expires_at", "referred_to_coordinator")
    list_filter = ("status", "scheme", "referred_to_coordinator", RequestNetworkFilter)
    list_select_related = ("mentee", "mentor", "scheme")
    ordering = ("status", "created_at")
    inlines = [DeclarationInline]
    # Issue 11, item 4 (R-COORD-4). The request's message and any decline reason stay in the platform.
    search_fields = ("mentee__email", "mentee__last_name", "mentor__email", "mentor__last_name")
    date_hierarchy = "created_at"
    export_resource = export_resource(
        MentorshipRequest,
        "scheme__name",
        "status",
        "referred_to_coordinator",
        "created_at",
        "expires_at",
        "responded_at",
        people={"mentee": "mentee", "mentor": "mentor"},
    )
    readonly_fields = (
        "scheme",
        "mentee",
        "mentor",
        "message",
        "status",
        "decline_reason",
        "referred_to_coordinator",
        "pairing",
        "created_at",
        "expires_at",
        "responded_at",
    )

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="mentee", role=Role.MENTEE, scheme="scheme")

    def has_add_permission(self, request):
        return False


class ProfileReportForm(forms.ModelForm):
    class Meta:
        model = ProfileReport
        fields = ("resolution",)

    def clean_resolution(self):
        resolution = self.cleaned_data.get("resolution", "").strip()
        if not resolution:
            raise forms.ValidationError("Say how the report was resolved.")
        return resolution


@admin.register(ProfileReport)
class ProfileReportAdmin(RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    list_display = ("profile", "reporter", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("profile__user", "reporter")
    readonly_fields = ("profile", "reporter", "reason", "created_at", "status", "resolved_by")
    fields = (*readonly_fields, "resolution")
    form = ProfileReportForm

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="profile__user", role=Role.MENTOR)

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == ProfileReport.Status.RESOLVED:
            return (*self.readonly_fields, "resolution")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Saving the form with a resolution resolves the report, through the audited service.
        try:
            services.profile_report_resolve(report_id=obj.pk, resolution=obj.resolution, actor=request.user)
        except ValidationError as refused:
            self.message_user(request, " ".join(refused.messages), messages.ERROR)


@admin.register(ConflictBlock)
class ConflictBlockAdmin(RoleScopedAdmin):
    """Pairings an unmanageable conflict of interest stopped (R-MATCH-5)."""

    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    list_display = ("created_at", "mentee", "mentor", "scheme", "kind", "declared_by")
    list_filter = ("kind", "scheme")
    list_select_related = ("mentee", "mentor", "scheme", "declared_by")
    readonly_fields = ("created_at", "scheme", "mentee", "mentor", "declared_by", "request", "kind", "details")

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="mentee", role=Role.MENTEE, scheme="scheme")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
