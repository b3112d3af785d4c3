from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from mentoring import services
from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from mentoring.models import LocalNetwork, Scheme, SchemeMembership, TermsAcceptance, TermsVersion


@admin.register(Scheme)
class SchemeAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    list_display = ("name", "kind", "dbs_required", "shares_contact_details", "careers_advice_in_scope", "is_open")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(LocalNetwork)
class LocalNetworkAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS,)
    change_roles = (STAFF,)
    list_display = ("name", "region")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("coordinators",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.filter(coordinators=request.user) if self.coordinator_only(request) else qs


@admin.register(SchemeMembership)
class SchemeMembershipAdmin(RoleScopedAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "network"
    list_display = ("user", "scheme", "role", "network", "status", "joined_at")
    list_filter = ("scheme", "role", "status", "network")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    list_select_related = ("user", "scheme", "network")
    readonly_fields = ("user", "scheme", "role", "joined_at", "status_changed_at")
    fields = ("user", "scheme", "role", "network", "status", "joined_at", "status_changed_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        services.membership_status_set(membership=obj, status=obj.status, changed_by=request.user)


@admin.register(TermsVersion)
class TermsVersionAdmin(RoleScopedAdmin):
    view_roles = (COORDINATORS, SAFEGUARDING_LEAD)
    change_roles = (STAFF,)
    list_display = ("kind", "version", "title", "published_at")
    list_filter = ("kind",)
    readonly_fields = ("published_at", "created_at")
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # A published version is never edited: publish a new one instead.
        if obj is not None and obj.is_published:
            return ("kind", "version", "title", "summary_of_changes", "body", "published_at", "created_at")
        return self.readonly_fields

    @admin.action(description="Publish the selected versions and tell every member")
    def publish(self, request, queryset):
        for version in queryset:
            try:
                told = services.terms_publish(version=version)
            except ValidationError as error:
                self.message_user(request, "; ".join(error.messages), messages.ERROR)
            else:
                self.message_user(request, f"Published {version}; {told} members were told.", messages.SUCCESS)


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(RoleScopedAdmin):
    view_roles = (STAFF, COORDINATORS)
    network_path = "user__memberships__network"
    list_display = ("user", "version", "accepted_at")
    list_filter = ("version",)
    list_select_related = ("user", "version")
    search_fields = ("user__email",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
