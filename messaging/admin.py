from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from mentoring.admin_scoping import COORDINATORS, SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin, ScopedNetworkFilter
from mentoring.messages import held_message_reject, held_message_release
from messaging.contact_details import describe
from messaging.models import ConversationAccessLog, HeldMessage, Notification, SpecialCategoryWarningCount
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


class DecisionFilter(admin.SimpleListFilter):
    """The queue opens on the messages still waiting; decided ones are a click away."""

    title = "decision"
    parameter_name = "decision"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*HeldMessage.Decision.choices, (self.ALL, "All")]

    def chosen(self) -> str:
        value = self.value()
        return value if value in {*HeldMessage.Decision.values, self.ALL} else HeldMessage.Decision.PENDING

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.chosen() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        chosen = self.chosen()
        return queryset if chosen == self.ALL else queryset.filter(decision=chosen)


class HeldNetworkFilter(ScopedNetworkFilter):
    network_lookup = "message__conversation__pairing__network"


@admin.register(HeldMessage)
class HeldMessageAdmin(RoleScopedAdmin):
    """The coordinators' queue of messages held for carrying contact details (R-MSG-7).

    Reading a held message's text is what deciding on it takes, so the text of a message that waits is
    shown here; nothing else of the conversation is, and once decided the text is no longer shown (a
    released message is part of the confidential conversation). A coordinator sees the held messages of
    pairings in their own networks; staff see all. Release and reject go through mentoring.messages,
    which checks the network again and audits the decision.
    """

    view_roles = (COORDINATORS, STAFF)
    network_path = "message__conversation__pairing__network"
    list_display = ("held_at", "sender_name", "partner_name", "network", "why", "waiting_text", "decision")
    list_filter = (DecisionFilter, HeldNetworkFilter)
    list_select_related = (
        "message__sender",
        "message__conversation__first_member",
        "message__conversation__second_member",
        "message__conversation__pairing__network",
    )
    fields = (
        "held_at",
        "sender_name",
        "partner_name",
        "network",
        "why",
        "waiting_text",
        "decision",
        "decided_by",
        "decided_at",
    )
    readonly_fields = fields
    actions = ["release", "reject"]

    def has_review_permission(self, request) -> bool:
        return self._holds(request, (COORDINATORS, STAFF))

    @admin.display(description="from")
    def sender_name(self, obj) -> str:
        return obj.message.sender.get_full_name() or str(obj.message.sender)

    @admin.display(description="to")
    def partner_name(self, obj) -> str:
        partner = obj.message.conversation.partner_of(obj.message.sender)
        return partner.get_full_name() or str(partner)

    @admin.display(description="Local Network")
    def network(self, obj) -> str:
        return str(obj.message.conversation.pairing.network)

    @admin.display(description="held because it seems to contain")
    def why(self, obj) -> str:
        return describe(obj.reason_kinds)

    @admin.display(description="message")
    def waiting_text(self, obj) -> str:
        if obj.decision != HeldMessage.Decision.PENDING:
            return "(decided: the text is no longer shown)"
        return obj.message.body

    @admin.action(description="Release the selected messages to the partner", permissions=["review"])
    def release(self, request, queryset):
        self._decide(request, queryset, held_message_release, "Released")

    @admin.action(description="Reject the selected messages (the partner never sees them)", permissions=["review"])
    def reject(self, request, queryset):
        self._decide(request, queryset, held_message_reject, "Rejected")

    def _decide(self, request, queryset, decide, done: str) -> None:
        decided, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                decide(held_id=pk, actor=request.user)
            except (ValidationError, PermissionDenied) as error:
                refused.append(f"message {pk}: {' '.join(getattr(error, 'messages', [str(error)]))}")
            else:
                decided += 1
        if decided:
            self.message_user(request, f"{done} {decided} message{'s' if decided != 1 else ''}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + "; ".join(refused), messages.ERROR)


@admin.register(SpecialCategoryWarningCount)
class SpecialCategoryWarningCountAdmin(RoleScopedAdmin):
    """How often messages raised the special-category warning, per scheme and day (R-MSG-4): numbers only."""

    view_roles = (STAFF,)
    scheme_wide = True
    list_display = ("day", "scheme", "warned", "sent_anyway")
    list_filter = ("scheme",)
    list_select_related = ("scheme",)
    date_hierarchy = "day"
    fields = ("day", "scheme", "warned", "sent_anyway")
    readonly_fields = fields


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
