from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import Language, User
from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from mentoring.models import SchemeMembership
from safeguarding import services as safeguarding_services


class MembershipInline(admin.TabularInline):
    model = SchemeMembership
    extra = 0
    fields = ("scheme", "role", "network", "status", "joined_at")
    readonly_fields = fields  # changed on the Scheme memberships page, one at a time
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class MemberChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes = {}


class MemberCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "first_name", "last_name")
        field_classes = {}


@admin.register(User)
class UserAdmin(RoleScopedAdmin, DjangoUserAdmin):
    view_roles = (SAFEGUARDING_LEAD,)
    change_roles = (COORDINATORS, STAFF)
    network_path = "memberships__network"
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
    list_filter = ("membership_status", "memberships__network", "memberships__scheme", "memberships__role", "is_staff")
    search_fields = ("email", "first_name", "last_name", "membership_number")
    inlines = [MembershipInline]
    form = MemberChangeForm
    add_form = MemberCreationForm
    MEMBERSHIP_FIELDS = ("membership_number", "membership_grade", "membership_status", "membership_expires_on")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Personal details",
            {"fields": ("first_name", "last_name", "date_of_birth", "country", "time_zone", "languages")},
        ),
        ("Professional-body membership (R-ELIG-2)", {"fields": MEMBERSHIP_FIELDS}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "first_name", "last_name", "password1", "password2")}),
    )
    filter_horizontal = ("groups", "languages")

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ("last_login", "date_joined")
        # Staff and coordinators record membership checks; they do not hand out access.
        editable = set(self.MEMBERSHIP_FIELDS) | {"is_active"}
        if self.coordinator_only(request):
            editable = set(self.MEMBERSHIP_FIELDS)
        all_fields = [f for _, opts in self.fieldsets for f in opts["fields"]]
        return tuple(f for f in all_fields if f not in editable)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        previous = form.initial.get("membership_status")
        safeguarding_services.membership_check_record(member=obj, checked_by=request.user, previous_status=previous)


@admin.register(Language)
class LanguageAdmin(RoleScopedAdmin):
    change_roles = (STAFF,)
    list_display = ("name", "code")
    search_fields = ("name", "code")
