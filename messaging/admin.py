from django.contrib import admin

from mentoring.admin_scoping import STAFF, RoleScopedAdmin
from messaging.models import Notification


@admin.register(Notification)
class NotificationAdmin(RoleScopedAdmin):
    view_roles = (STAFF,)
    list_display = ("created_at", "user", "kind", "title", "read_at", "emailed_at")
    list_filter = ("kind",)
    list_select_related = ("user",)
    search_fields = ("user__email", "title")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
