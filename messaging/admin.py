from django.contrib import admin

from mentoring.admin_scoping import STAFF, RoleScopedAdmin
from messaging.models import Notification


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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
