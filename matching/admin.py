from django import forms
from django.contrib import admin, messages

from matching import services
from matching.models import (
    ConflictDeclaration,
    ExpertiseArea,
    MenteeProfile,
    MentorProfile,
    MentorshipRequest,
    ProfileReport,
    RematchRequest,
    Sector,
)
from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin


@admin.register(Sector, ExpertiseArea)
class ListAdmin(RoleScopedAdmin):
    """Coordinators manage the lists mentors choose from."""

    change_roles = (COORDINATORS, STAFF)
    search_fields = ("name",)


@admin.register(MentorProfile)
class MentorProfileAdmin(RoleScopedAdmin):
    """The approval queue (R-PROFILE-3, R-COORD-2): filter on "Waiting for approval"."""

    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "user__memberships__network"
    list_display = ("user", "role_title", "sector", "status", "availability", "capacity", "submitted_at")
    list_filter = ("status", "availability", "sector")
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

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # Only the review note is editable here; approval goes through the actions.
        MentorProfile.objects.filter(pk=obj.pk).update(review_note=obj.review_note)

    @admin.action(description="Approve the selected profiles for listing")
    def approve(self, request, queryset):
        for profile in queryset:
            services.mentor_profile_review(profile=profile, approve=True, note="", reviewer=request.user)
        self.message_user(request, f"Approved {queryset.count()} profile(s).", messages.SUCCESS)

    @admin.action(description="Ask for changes (uses each profile's review note)")
    def request_changes(self, request, queryset):
        for profile in queryset:
            services.mentor_profile_review(
                profile=profile,
                approve=False,
                note=profile.review_note or "Please review your profile against the code of conduct.",
                reviewer=request.user,
            )
        self.message_user(request, f"Asked for changes on {queryset.count()} profile(s).", messages.SUCCESS)


@admin.register(MenteeProfile)
class MenteeProfileAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF)
    network_path = "user__memberships__network"
    list_display = ("user", "sector", "language", "country", "updated_at")
    list_select_related = ("user", "sector", "language")


class DeclarationInline(admin.TabularInline):
    model = ConflictDeclaration
    extra = 0
    can_delete = False
    readonly_fields = ("declared_by", "kind", "details", "manageable", "declared_at")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(MentorshipRequest)
class MentorshipRequestAdmin(RoleScopedAdmin):
    """Requests in the coordinator's networks; oldest pending first shows who waits too long (R-COORD-2)."""

    view_roles = (COORDINATORS, STAFF)
    network_path = "mentee__memberships__network"
    list_display = ("mentee", "mentor", "scheme", "status", "created_at", "expires_at", "referred_to_coordinator")
    list_filter = ("status", "scheme", "referred_to_coordinator")
    list_select_related = ("mentee", "mentor", "scheme")
    ordering = ("status", "created_at")
    inlines = [DeclarationInline]
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


class ProfileReportForm(forms.ModelForm):
    class Meta:
        model = ProfileReport
        fields = ("status", "resolution")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == ProfileReport.Status.RESOLVED and not cleaned.get("resolution", "").strip():
            self.add_error("resolution", "Say how the report was resolved.")
        return cleaned


@admin.register(ProfileReport)
class ProfileReportAdmin(RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "profile__user__memberships__network"
    list_display = ("profile", "reporter", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("profile__user", "reporter")
    readonly_fields = ("profile", "reporter", "reason", "created_at", "resolved_by")
    fields = (*readonly_fields, "status", "resolution")
    form = ProfileReportForm

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        obj.resolved_by = request.user if obj.status == ProfileReport.Status.RESOLVED else None
        super().save_model(request, obj, form, change)


@admin.register(RematchRequest)
class RematchRequestAdmin(RoleScopedAdmin):
    view_roles = (STAFF,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "pairing__network"
    list_display = ("mentee", "pairing", "created_at", "handled")
    list_filter = ("handled",)
    readonly_fields = ("mentee", "pairing", "note", "created_at")

    def has_add_permission(self, request):
        return False
