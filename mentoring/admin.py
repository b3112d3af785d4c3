"""The admin for schemes, networks, members and pairings. Writes go through services that check the actor."""

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.text import Truncator

from accounts.models import Language, User
from matching import admin_views
from matching.selectors import unmatched_mentees, waiting_facts
from mentoring import (
    closure,
    dbs_admin,  # noqa: F401  registers DBS checks (issue 9); mentoring/dbs_admin.py says why here
    ending,
    ending_admin_views,
    member_messages,
    permissions,
    services,
)
from mentoring.admin_bulk import BulkWithdrawForm, MembersMessageForm, form_action
from mentoring.admin_csv import MembershipImportAdmin, ScopedExportAdmin, export_resource
from mentoring.admin_scoping import (
    COORDINATORS,
    SAFEGUARDING_LEAD,
    STAFF,
    RoleScopedAdmin,
    SafeSelectionMixin,
    ScopedInline,
    ScopedNetworkFilter,
)
from mentoring.meetings import inactive_pairings
from mentoring.models import (
    EndOfPairing,
    Feedback,
    LocalNetwork,
    Pairing,
    RematchRequest,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    TermsVersion,
    WaitingMentee,
)
from mentoring.models.agreement import Agreement, PairingGoal
from mentoring.models.meetings import Meeting
from safeguarding import services as safeguarding_services
from safeguarding import sweep
from safeguarding.services import MEMBERSHIP_FIELDS


class SchemeAdminForm(forms.ModelForm):
    def clean_closes_on(self):
        # Scheme closure (issue 7): a new close date gives members two weeks' notice.
        closes_on = self.cleaned_data.get("closes_on")
        if "closes_on" in self.changed_data:
            closure.close_date_check(closes_on)
        return closes_on


def members_message_action(model_admin, request, queryset, member_ids):
    """Issue 11, item 4 (R-COORD-4): write to the selected members through the platform."""

    def apply(data, queryset):
        told = member_messages.members_message_send(member_ids=list(member_ids), actor=request.user, body=data["body"])
        return f"Sent your message to {told} member{'s' if told != 1 else ''}."

    return form_action(
        model_admin,
        request,
        queryset,
        form_class=MembersMessageForm,
        title="Send a message to the selected members",
        intro="Each member reads your message in their notifications on the platform and by email, signed with "
        "your name.",
        submit="Send the message",
        apply=apply,
    )


@admin.register(Scheme)
class SchemeAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    scheme_wide = True
    form = SchemeAdminForm
    list_display = (
        "name",
        "kind",
        "dbs_required",
        "shares_contact_details",
        "careers_advice_in_scope",
        "is_open",
        "closes_on",
    )
    prepopulated_fields = {"slug": ("name",)}
    actions = ["cohort_match"]

    def save_model(self, request, obj, form, change):
        # The close date goes through its audited service (scheme closure, issue 7).
        closes_on = obj.closes_on
        if "closes_on" in form.changed_data:
            obj.closes_on = form.initial.get("closes_on")
        super().save_model(request, obj, form, change)
        if "closes_on" in form.changed_data:
            closure.scheme_close_set(scheme_id=obj.pk, closes_on=closes_on, actor=request.user)

    def get_urls(self):
        return [
            path(
                "<int:pk>/cohort/",
                self.admin_site.admin_view(lambda request, pk: admin_views.cohort_view(self, request, pk)),
                name="mentoring_scheme_cohort",
            ),
            *super().get_urls(),
        ]

    def has_cohort_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.action(description="Run cohort matching (preview first)", permissions=["cohort"])
    def cohort_match(self, request, queryset):
        scheme = queryset.first()
        if scheme is None:
            self.message_user(request, "Choose the scheme to match.", messages.WARNING)
            return None
        return redirect("admin:mentoring_scheme_cohort", pk=scheme.pk)


class MemberNetworkFilter(ScopedNetworkFilter):
    """Members with a membership in the network (one row per member, however many memberships)."""

    def queryset(self, request, queryset):
        if self.value() and self.network_id() is None:
            return queryset.none()
        if self.network_id() is not None:
            memberships = SchemeMembership.objects.filter(user=OuterRef("pk"), network=self.network_id())
            return queryset.filter(Exists(memberships))
        return queryset


class FeedbackNetworkFilter(ScopedNetworkFilter):
    network_lookup = "pairing__network"


@admin.register(LocalNetwork)
class LocalNetworkAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS,)
    change_roles = (STAFF,)
    list_display = ("name", "region")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("coordinators",)

    def coordinator_scope(self, coordinator):
        return permissions.network_in_scope(coordinator, network="pk")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "coordinators":
            # Only people who hold the coordinator role can coordinate a network.
            formfield.queryset = User.objects.filter(groups__name=COORDINATORS, is_active=True)
        return formfield


class MembershipStatusForm(forms.ModelForm):
    """Changing a membership's state here cannot withdraw it: withdrawal ends pairings and tells partners,
    so it has its own page."""

    class Meta:
        model = SchemeMembership
        fields = ("network", "status")

    def clean_status(self):
        status = self.cleaned_data["status"]
        if status == SchemeMembership.Status.WITHDRAWN and self.instance.status != status:
            raise forms.ValidationError(
                "Use “Withdraw from the scheme” on this page: it ends the member's pairings and tells their partners."
            )
        return status


@admin.register(SchemeMembership)
class SchemeMembershipAdmin(ScopedExportAdmin, RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("user", "scheme", "role", "network", "status", "joined_at")
    list_filter = ("scheme", "role", "status", ScopedNetworkFilter)
    search_fields = ("user__email", "user__first_name", "user__last_name")
    list_select_related = ("user", "scheme", "network")
    readonly_fields = ("user", "scheme", "role", "joined_at", "status_changed_at")
    fields = ("user", "scheme", "role", "network", "status", "joined_at", "status_changed_at")
    form = MembershipStatusForm
    # Issue 11, item 4 (R-COORD-4): export, search and dates.
    export_resource = export_resource(
        SchemeMembership,
        "scheme__name",
        "role",
        "network__name",
        "status",
        "joined_at",
        "status_changed_at",
        people={"member": "user"},
    )
    date_hierarchy = "joined_at"
    actions = ["send_message", "withdraw_selected"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.membership_status_set(membership_id=obj.pk, status=obj.status, network=obj.network, actor=request.user)

    # Withdrawal by staff with a reason (issue 7, item 8): its own page, through membership_withdraw.
    def get_urls(self):
        return [
            path(
                "<int:pk>/withdraw/",
                self.admin_site.admin_view(
                    lambda request, pk: ending_admin_views.membership_withdraw_view(self, request, pk)
                ),
                name="mentoring_schememembership_withdraw",
            ),
            *super().get_urls(),
        ]

    def has_withdraw_permission(self, request):
        return permissions.is_scheme_staff(request.user)

    def has_message_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.action(description="Send a message to the selected members", permissions=["message"])
    def send_message(self, request, queryset):
        return members_message_action(self, request, queryset, queryset.values_list("user_id", flat=True))

    @admin.action(description="Withdraw the selected memberships (with a reason)", permissions=["withdraw"])
    def withdraw_selected(self, request, queryset):
        def apply(data, queryset):
            withdrawn, refused = 0, []
            for membership in queryset.select_related("user", "scheme"):
                if membership.status == SchemeMembership.Status.WITHDRAWN:
                    continue
                try:
                    ending.membership_withdraw(membership_id=membership.pk, actor=request.user, reason=data["reason"])
                except ValidationError as error:
                    refused.append(f"{membership}: {' '.join(error.messages)}")
                else:
                    withdrawn += 1
            for line in refused:
                self.message_user(request, line, messages.ERROR)
            return f"Withdrew {withdrawn} membership{'s' if withdrawn != 1 else ''}; each member was told your reason."

        return form_action(
            self,
            request,
            queryset,
            form_class=BulkWithdrawForm,
            title="Withdraw the selected memberships",
            intro="Each member is withdrawn from the scheme in that role: their active pairings in it end with the "
            "reason “withdrawal” (partners told), requests waiting for an answer are withdrawn, and the member is "
            "told your reason. Nothing is deleted.",
            submit="Withdraw them",
            apply=apply,
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_withdraw_membership": self.has_withdraw_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(TermsVersion)
class TermsVersionAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    scheme_wide = True
    list_display = ("kind", "version", "title", "published_at")
    list_filter = ("kind",)
    readonly_fields = ("published_at", "created_at")
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # A published version is never edited: publish a new one instead.
        if obj is not None and obj.is_published:
            return ("kind", "version", "title", "summary_of_changes", "body", "published_at", "created_at")
        return self.readonly_fields

    def has_publish_permission(self, request):
        return permissions.is_scheme_staff(request.user)

    @admin.action(description="Publish the selected versions and tell every member", permissions=["publish"])
    def publish(self, request, queryset):
        for version in queryset:
            try:
                told = services.terms_publish(version_id=version.pk, actor=request.user)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"Published {version}; {told} members were told.", messages.SUCCESS)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(RoleScopedAdmin):
    view_roles = (STAFF, COORDINATORS)
    list_display = ("user", "version", "accepted_at")
    list_filter = ("version",)
    list_select_related = ("user", "version")
    search_fields = ("user__email",)

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="user")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ActivityFilter(admin.SimpleListFilter):
    """Pairings gone quiet: running, with no meeting for the scheme's inactivity days (R-COORD-2)."""

    title = "activity"
    parameter_name = "activity"
    INACTIVE = "inactive"

    def lookups(self, request, model_admin):
        return [(self.INACTIVE, "No meeting for the scheme's inactivity days")]

    def queryset(self, request, queryset):
        if self.value() == self.INACTIVE:
            return inactive_pairings(queryset)
        return queryset


@admin.register(Pairing)
class PairingAdmin(ScopedExportAdmin, RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("mentor", "mentee", "scheme", "network", "status", "origin", "started_at", "end_reason")
    list_filter = ("status", ActivityFilter, "origin", "scheme", ScopedNetworkFilter, "end_reason")
    list_select_related = ("mentor", "mentee", "scheme", "network")
    search_fields = ("mentor__email", "mentee__email", "mentor__last_name", "mentee__last_name")
    readonly_fields = (
        "scheme",
        "mentor",
        "mentee",
        "network",
        "status",
        "origin",
        "created_by",
        "started_at",
        "ended_at",
        "end_reason",
        "paused_at",  # while a member is suspended (mentoring/suspension.py)
    )
    fields = readonly_fields
    export_resource = export_resource(
        Pairing,
        "scheme__name",
        "network__name",
        "status",
        "origin",
        "started_at",
        "ended_at",
        "end_reason",
        people={"mentor": "mentor", "mentee": "mentee"},
    )
    date_hierarchy = "started_at"

    def add_view(self, request, form_url="", extra_context=None):
        # Pairing by hand is its own page: it starts the pairing through the service, never a model form.
        return admin_views.manual_pairing_view(self, request)

    def has_change_permission(self, request, obj=None):
        return False  # a pairing changes through its own services (ending, later issues), not this form

    # Ending from the admin (issue 7, item 6): its own page, since it needs a reason.
    def get_urls(self):
        return [
            path(
                "<int:pk>/end/",
                self.admin_site.admin_view(lambda request, pk: ending_admin_views.pairing_end_view(self, request, pk)),
                name="mentoring_pairing_end",
            ),
            *super().get_urls(),
        ]

    def has_end_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_end_pairing": self.has_end_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(WaitingMentee)
class WaitingMenteeAdmin(ScopedExportAdmin, RoleScopedAdmin):
    """Everyone waiting for a mentor, longest first; no one is silently dropped (R-MATCH-4). Each row shows the
    mentee's goals, whether the eligibility engine finds them eligible and whether a mentor referred them back
    (R-COORD-2), read for the whole page at once (matching.selectors.waiting_facts)."""

    view_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = (
        "user",
        "scheme",
        "network",
        "joined_at",
        "days_waiting",
        "goals",
        "eligible",
        "referred_back",
        admin_views.find_a_mentor_link,
    )
    list_filter = ("scheme", ScopedNetworkFilter)
    search_fields = ("user__email", "user__first_name", "user__last_name")
    export_resource = export_resource(
        WaitingMentee, "scheme__name", "network__name", "joined_at", people={"mentee": "user"}
    )
    export_select_related = ("user", "scheme", "network")

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = list(changelist.result_list)
        facts = waiting_facts(changelist.result_list)
        for membership in changelist.result_list:
            membership.waiting_facts = facts[membership.pk]
        return changelist

    def get_queryset(self, request):
        qs = unmatched_mentees(model=WaitingMentee)
        if self.coordinator_only(request):
            qs = qs.filter(self.coordinator_scope(request.user))
        return qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="days waiting")
    def days_waiting(self, obj):
        return (timezone.now() - obj.joined_at).days

    def _facts(self, obj):
        facts = getattr(obj, "waiting_facts", None)
        return facts if facts is not None else waiting_facts([obj])[obj.pk]

    @admin.display(description="goals")
    def goals(self, obj):
        return Truncator(self._facts(obj).goals).chars(160) or "(no goals set out yet)"

    @admin.display(description="eligible", boolean=True)
    def eligible(self, obj):
        return self._facts(obj).eligible

    @admin.display(description="referred back by a mentor", boolean=True)
    def referred_back(self, obj):
        return self._facts(obj).referred_back


@admin.register(RematchRequest)
class RematchRequestAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF)
    network_path = "pairing__network"
    list_display = ("mentee", "pairing", "created_at", "handled")
    list_filter = ("handled",)
    list_select_related = ("mentee", "pairing__mentor", "pairing__mentee", "pairing__scheme")
    readonly_fields = ("mentee", "pairing", "note", "created_at", "handled")

    def has_add_permission(self, request):
        return False


class MembershipInline(ScopedInline):
    """The member's scheme memberships; a coordinator sees only those in their own networks."""

    model = SchemeMembership
    extra = 0
    fields = ("scheme", "role", "network", "status", "joined_at")
    readonly_fields = fields  # changed on the Scheme memberships page, one at a time
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MemberChangeForm(forms.ModelForm):
    """The member's record without any password field: not even its hash is shown or sent."""

    class Meta:
        model = User
        fields = (
            "email",
            "first_name",
            "last_name",
            "date_of_birth",
            "country",
            "time_zone",
            "languages",
            *MEMBERSHIP_FIELDS,
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
        )


class MemberCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "first_name", "last_name")
        field_classes = {}


@admin.register(User)
class UserAdmin(MembershipImportAdmin, ScopedExportAdmin, RoleScopedAdmin, DjangoUserAdmin):
    """Members. Staff and coordinators record membership checks; only a superuser changes sign-in details or
    access. Staff who need to help a member send them the password-reset email instead. Staff import the
    membership system's export here (issue 11, item 3)."""

    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    ordering = ("last_name", "first_name")
    list_display = (
        "email",
        "first_name",
        "last_name",
        "membership_number",
        "membership_status",
        "membership_expires_on",
        "country",
    )
    list_filter = ("membership_status", "memberships__scheme", "memberships__role", MemberNetworkFilter, "is_staff")
    search_fields = ("email", "first_name", "last_name", "membership_number")
    inlines = [MembershipInline]
    form = MemberChangeForm
    add_form = MemberCreationForm
    fieldsets = (
        (None, {"fields": ("email",)}),
        (
            "Personal details",
            {"fields": ("first_name", "last_name", "date_of_birth", "country", "time_zone", "languages")},
        ),
        ("Professional-body membership", {"fields": MEMBERSHIP_FIELDS}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "password1", "password2")}),
    )
    filter_horizontal = ("groups", "languages")
    actions = ["send_password_reset", "send_message"]
    import_export_change_list_template = "admin/import_export/change_list_import_export.html"
    export_resource = export_resource(
        User,
        "first_name",
        "last_name",
        "email",
        "country",
        "membership_number",
        "membership_grade",
        "membership_status",
        "membership_expires_on",
    )

    def coordinator_scope(self, coordinator):
        return permissions.membership_in_scope(coordinator, member="pk")

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("last_login", "date_joined")
        # Staff and coordinators record membership checks; they do not change sign-in details or hand out access.
        all_fields = [f for _, opts in self.fieldsets for f in opts["fields"]]
        return tuple(f for f in all_fields if f not in MEMBERSHIP_FIELDS)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        # Nobody but a superuser sets another person's password (they would then sign in as them).
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def has_password_reset_permission(self, request):
        return permissions.is_scheme_staff(request.user)

    def has_message_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.action(description="Send a message to the selected members", permissions=["message"])
    def send_message(self, request, queryset):
        return members_message_action(self, request, queryset, queryset.values_list("pk", flat=True))

    @admin.action(description="Send the selected members a password-reset email", permissions=["password_reset"])
    def send_password_reset(self, request, queryset):
        sent = 0
        for member in queryset:
            form = ResetPasswordForm(data={"email": member.email})
            if form.is_valid():
                form.save(request)
                sent += 1
        self.message_user(request, f"Sent {sent} password-reset email{'s' if sent != 1 else ''}.", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changes = {f: form.cleaned_data[f] for f in MEMBERSHIP_FIELDS if f in form.changed_data}
        if request.user.is_superuser:
            # The superuser's other changes save as usual; the membership check is recorded through the service.
            current = User.objects.get(pk=obj.pk)
            for name in MEMBERSHIP_FIELDS:
                setattr(obj, name, getattr(current, name))
            super().save_model(request, obj, form, change)
        member = safeguarding_services.membership_check_record(member_id=obj.pk, actor=request.user, changes=changes)
        if "membership_status" in changes:
            # As an import does (issue 11, item 3): a lapse is told at once, a renewal closes it.
            sweep.member_recheck(member=member)


@admin.register(Language)
class LanguageAdmin(RoleScopedAdmin):
    change_roles = (STAFF,)
    scheme_wide = True
    list_display = ("name", "code")
    search_fields = ("name", "code")


# Django's and allauth's own admins (superusers only) refuse a tampered selection the same way.
for _model in (EmailAddress, Group, Authenticator):
    _original = type(admin.site._registry[_model])
    admin.site.unregister(_model)
    admin.site.register(_model, type(_original.__name__, (SafeSelectionMixin, _original), {}))


# --- Ending and feedback (issue 7, items 5 and 6): read-only, scoped by the pairing's network. ---


class ReadFilter(admin.SimpleListFilter):
    """End of Pairing forms a coordinator has still to read (R-COORD-2)."""

    title = "read"
    parameter_name = "read"
    NO, YES = "no", "yes"

    def lookups(self, request, model_admin):
        return [(self.NO, "Not read yet"), (self.YES, "Read")]

    def queryset(self, request, queryset):
        if self.value() in (self.NO, self.YES):
            return queryset.filter(read_at__isnull=self.value() == self.NO)
        return queryset


@admin.register(EndOfPairing)
class EndOfPairingAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    network_path = "pairing__network"
    list_display = ("pairing", "reason", "ended_by", "created_at", "read_at")
    list_filter = (ReadFilter, "reason")
    list_select_related = ("pairing__mentor", "pairing__mentee", "pairing__scheme", "ended_by")
    readonly_fields = ("pairing", "reason", "ended_by", "comments", "created_at", "read_at", "read_by")
    fields = readonly_fields
    actions = ["mark_read"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_mark_read_permission(self, request):
        return self._holds(request, (COORDINATORS, STAFF))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_mark_read": self.has_mark_read_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Mark the selected forms as read", permissions=["mark_read"])
    def mark_read(self, request, queryset):
        try:
            marked = ending.end_of_pairing_mark_read(
                record_ids=queryset.values_list("pk", flat=True), actor=request.user
            )
        except PermissionDenied as refused:
            self.message_user(request, str(refused), messages.ERROR)
        else:
            self.message_user(request, f"Marked {marked} form{'s' if marked != 1 else ''} as read.", messages.SUCCESS)


class LowRatingFilter(admin.SimpleListFilter):
    """Feedback rated at most a given score: the workbench's "rated 2 or less" (R-COORD-2)."""

    title = "rated at most"
    parameter_name = "rating_at_most"

    def lookups(self, request, model_admin):
        return [(str(n), f"{n} or less") for n in range(1, 5)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(rating__lte=int(value))
        return queryset


@admin.register(Feedback)
class FeedbackAdmin(ScopedExportAdmin, RoleScopedAdmin):
    """What members said of their pairings; coordinators read their own network's (R-PAIR-4)."""

    view_roles = (COORDINATORS, STAFF)
    network_path = "pairing__network"
    list_display = ("pairing", "member", "stage", "rating", "created_at")
    list_filter = ("stage", LowRatingFilter, "rating", FeedbackNetworkFilter)
    search_fields = ("member__email", "member__last_name")
    list_select_related = ("pairing__mentor", "pairing__mentee", "pairing__scheme", "member")
    readonly_fields = ("pairing", "member", "stage", "rating", "comments", "created_at")
    # The comments stay in the platform: the export has the ratings.
    export_resource = export_resource(
        Feedback,
        "pairing__scheme__name",
        "stage",
        "rating",
        "created_at",
        people={"member": "member", "mentor": "pairing__mentor", "mentee": "pairing__mentee"},
    )
    date_hierarchy = "created_at"


# Issue 7, meetings part: read-only. Meetings change through mentoring/meetings.py, by the two members.
class MeetingNetworkFilter(ScopedNetworkFilter):
    network_lookup = "pairing__network"


@admin.register(Meeting)
class MeetingAdmin(ScopedExportAdmin, RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    network_path = "pairing__network"
    list_display = ("pairing", "starts_at", "duration_minutes", "status", "proposed_by", "marked_by")
    list_filter = ("status", MeetingNetworkFilter)
    search_fields = (
        "pairing__mentor__email",
        "pairing__mentee__email",
        "pairing__mentor__last_name",
        "pairing__mentee__last_name",
    )
    date_hierarchy = "starts_at"
    # Not the video link or the note: they are the pair's.
    export_resource = export_resource(
        Meeting,
        "pairing__scheme__name",
        "starts_at",
        "duration_minutes",
        "status",
        "accepted_at",
        people={"mentor": "pairing__mentor", "mentee": "pairing__mentee"},
    )
    list_select_related = ("pairing__mentor", "pairing__mentee", "pairing__scheme", "proposed_by", "marked_by")
    readonly_fields = (
        "pairing",
        "proposed_by",
        "starts_at",
        "duration_minutes",
        "video_link",
        "note",
        "status",
        "replaces",
        "accepted_at",
        "marked_by",
        "marked_at",
        "sequence",
        "created_at",
        "changed_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- How a pairing goes, for its network's coordinators (issue 7): the agreement's state and the pair's goals. ---
# The agreement's text and the progress notes stay with the pair; the mentor's session notes are never here.


@admin.register(Agreement)
class AgreementAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    network_path = "pairing__network"
    list_display = ("pairing", "status", "agreed_at", "created_at")
    list_filter = ("status",)
    list_select_related = ("pairing__mentor", "pairing__mentee", "pairing__scheme")
    readonly_fields = ("pairing", "status", "agreed_at", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PairingGoal)
class PairingGoalAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, STAFF, SAFEGUARDING_LEAD)
    network_path = "pairing__network"
    list_display = ("pairing", "text", "status", "created_at")
    list_filter = ("status",)
    list_select_related = ("pairing__mentor", "pairing__mentee", "pairing__scheme")
    readonly_fields = ("pairing", "text", "status", "seeded", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
