from django.contrib import admin

from mentoring.admin_scoping import SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from messaging.models import ConversationAccessLog, Notification
from safeguarding import concerns


@admin.register(Notification)
class NotificationAdmin(RoleScopedAdmin):
    """Whether members were told, and when. The body can quote a mentee's private request, so it is never shown:
    confidential content is read only through the audited access route."""

    view_roles = (STAFF,)
    scheme_wide = True
    list_display = ("created_at", "user", "kind", "title", "read_at", "emailed_at", "email_failed_at")
    list_filter = ("kind", ("email_failed_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("created_at", "user", "kind", "title", "url", "read_at", "emailed_at", "email_failed_at", "email_error")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not concerns.may_see_concerns(request.user):
            # A concern's notifications would tell staff that one exists, and about whom.
            qs = qs.exclude(kind__in=concerns.NOTIFICATION_KINDS)
        return qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ConversationAccessLog)
class ConversationAccessLogAdmin(RoleScopedAdmin):
    """Every read of a conversation under a grant (R-MSG-5): read-only, for staff and the Safeguarding Lead.

    Reads for a safeguarding concern are listed to the Safeguarding Lead group only. The conversation itself is
    never shown here: it is read only through the access page.
    """

    view_roles = (STAFF, SAFEGUARDING_LEAD)
    scheme_wide = True
    list_display = ("at", "reader", "conversation", "purpose", "reason")
    list_select_related = ("reader", "grant", "conversation")
    search_fields = ("reader__email", "reader__last_name")
    date_hierarchy = "at"
    fields = ("at", "reader", "conversation", "purpose", "reason", "grant_created_at", "grant_expires_at")
    readonly_fields = fields

    @admin.display(description="for")
    def purpose(self, obj):
        return obj.grant.purpose

    @admin.display(description="access granted at")
    def grant_created_at(self, obj):
        return obj.grant.created_at

    @admin.display(description="access ended at")
    def grant_expires_at(self, obj):
        return obj.grant.expires_at

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not concerns.may_see_concerns(request.user):
            qs = qs.filter(grant__concern__isnull=True)
        return qs

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
