"""The matching admin: the lists mentors choose from, profile approval, requests, reports and blocked pairings.

A coordinator sees each row through the network of the membership it belongs to:
a mentor profile through the mentor's membership as a mentor, a request through
the mentee's membership in the request's scheme.
"""

import datetime
import difflib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from matching import services
from matching.admin_views import counted
from matching.models import (
    ConflictBlock,
    ConflictDeclaration,
    ExpertiseArea,
    MenteeProfile,
    MentorProfile,
    MentorshipRequest,
    PairingProposal,
    ProfileReport,
    Sector,
)
from matching.selectors import profile_text_changes
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
    fields = ("changes_since_approval", *readonly_fields, "review_note")
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

    def get_readonly_fields(self, request, obj=None):
        return ("changes_since_approval", *self.readonly_fields)

    @admin.display(description="Changes since the last approved text")
    def changes_since_approval(self, obj):
        """The text last approved beside the text now, words taken out struck through and words put in marked
        (R-COORD-2); a profile never approved says it is a first submission."""
        approved, changes = profile_text_changes(obj)
        if approved is None:
            return "First submission: no approved text of this profile is on record, so there is nothing to compare."
        rows = format_html_join(
            "",
            '<tr><th scope="row">{}{}</th><td>{}</td><td>{}</td></tr>',
            (
                (change.label, " (changed)" if change.changed else "", *word_changes(change.approved, change.now))
                for change in changes
            ),
        )
        approved_at = timezone.localtime(approved.approved_at)
        by = approved.approved_by.get_full_name() if approved.approved_by else "someone no longer here"
        return format_html(
            '<table class="profile-changes"><caption>Approved on {} by {}, beside the text now</caption>'
            '<thead><tr><th scope="col">Part</th><th scope="col">Last approved</th><th scope="col">Now</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            f"{approved_at:%-d %b %Y, %H:%M}",
            by,
            rows,
        )

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
        self.message_user(request, f"{verb} {counted(done, 'profile')}.", messages.SUCCESS)

    @admin.action(description="Approve the selected profiles for listing", permissions=["review"])
    def approve(self, request, queryset):
        self._review(request, queryset, approve=True)

    @admin.action(description="Ask for changes (sends each profile's review note)", permissions=["review"])
    def request_changes(self, request, queryset):
        self._review(request, queryset, approve=False)


def word_changes(before: str, after: str) -> tuple[str, str]:
    """Both texts as HTML, word by word: words only in `before` in <del>, words only in `after` in <ins>."""
    old, new = before.split(), after.split()
    left, right = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            left.append(format_html("{}", " ".join(old[i1:i2])))
            right.append(format_html("{}", " ".join(new[j1:j2])))
            continue
        if i2 > i1:
            left.append(format_html("<del>{}</del>", " ".join(old[i1:i2])))
        if j2 > j1:
            right.append(format_html("<ins>{}</ins>", " ".join(new[j1:j2])))
    return format_html_join(" ", "{}", ((part,) for part in left)), format_html_join(
        " ", "{}", ((part,) for part in right)
    )


class PendingOverFilter(admin.SimpleListFilter):
    """Requests still waiting for the mentor's answer after so many days (R-COORD-2)."""

    title = "pending for more than"
    parameter_name = "pending_over"
    DAYS = (7, 14)

    def lookups(self, request, model_admin):
        return [(str(days), f"{days} days") for days in self.DAYS]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit() and int(value) <= 3650:
            since = timezone.now() - datetime.timedelta(days=int(value))
            return queryset.filter(status=MentorshipRequest.Status.PENDING, created_at__lt=since)
        return queryset


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
    list_filter = ("status", PendingOverFilter, "scheme", "referred_to_coordinator", RequestNetworkFilter)
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


class ProposalDeclarationInline(DeclarationInline):
    fk_name = "proposal"


@admin.register(PairingProposal)
class PairingProposalAdmin(RoleScopedAdmin):
    """Pairings coordinators proposed, by hand or by cohort, and how each ended: started, declined, withdrawn, or
    could not start with the reason (R-MATCH-3, R-MATCH-5). Proposing is on the "Find a mentor" page."""

    view_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = (
        "mentee",
        "mentor",
        "scheme",
        "network",
        "origin",
        "status",
        "fit",
        "mentee_confirmed_at",
        "mentor_confirmed_at",
        "outcome",
        "created_at",
    )
    list_filter = ("status", "origin", "scheme")
    list_select_related = ("mentee", "mentor", "scheme", "network")
    search_fields = ("mentee__email", "mentee__last_name", "mentor__email", "mentor__last_name")
    inlines = [ProposalDeclarationInline]
    readonly_fields = (
        "scheme",
        "network",
        "mentee",
        "mentor",
        "origin",
        "proposed_by",
        "fit",
        "reasons",
        "status",
        "mentee_confirmed_at",
        "mentor_confirmed_at",
        "declined_by",
        "outcome",
        "pairing",
        "created_at",
        "decided_at",
    )
    fields = readonly_fields
    actions = ["withdraw"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_withdraw_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.display(description="fit (0–100)")
    def fit(self, obj):
        return obj.fit

    @admin.action(description="Withdraw the selected proposals (tells both members)", permissions=["withdraw"])
    def withdraw(self, request, queryset):
        done = 0
        for proposal in queryset:
            try:
                services.proposal_withdraw(proposal_id=proposal.pk, actor=request.user)
            except ValidationError as refused:
                self.message_user(request, f"{proposal}: {' '.join(refused.messages)}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"Withdrew {counted(done, 'proposal')}.", messages.SUCCESS)
