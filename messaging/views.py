from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from mentoring.messages import message_send
from messaging import selectors
from messaging.contact_details import held_notice
from messaging.models import MESSAGE_MAX_LENGTH, Message, Notification
from messaging.services import MessageRateLimited, conversation_mark_read, notification_mark_read
from messaging.special_category import SpecialCategoryWarning


@login_required
def notification_list(request):
    page = Paginator(Notification.objects.for_user(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "messaging/notification_list.html", {"page": page, "title": "Notifications"})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go where it points. Another member's id gives 404."""
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    notification_mark_read(user=request.user, notification_id=notification.pk)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notification_list")


@login_required
@require_POST
def notification_read_all(request):
    notification_mark_read(user=request.user)
    return redirect("notification_list")


@login_required
def conversation_list(request):
    """The inbox: each conversation with its last message and how many are unread."""
    return render(
        request,
        "messaging/conversation_list.html",
        {"conversations": selectors.inbox_for(request.user), "title": "Messages"},
    )


def _before(request) -> int | None:
    try:
        return int(request.GET["before"])
    except (KeyError, ValueError):
        return None


@login_required
def conversation_detail(request, pk: int):
    """History (newest at the bottom) and a composer that works as a plain form. Another person's id gives 404."""
    conversation = selectors.access_conversation(request.user, pk)
    status, draft, error, special_warning, retry_after = 200, "", "", "", None
    if request.method == "POST":
        draft = request.POST.get("body", "")
        # "Send anyway" after the special-category warning (R-MSG-4).
        confirm_special = request.POST.get("confirm_special") in ("1", "on", "true")
        try:
            message = message_send(
                conversation_id=conversation.pk, sender=request.user, body=draft, confirm_special=confirm_special
            )
        except SpecialCategoryWarning as warning:
            status, special_warning = 400, warning.text
        except MessageRateLimited as refused:
            status, error, retry_after = 429, refused.messages[0], refused.retry_after
        except ValidationError as refused:
            status, error = 400, " ".join(refused.messages)
        else:
            if message.status == Message.Status.HELD:
                messages.warning(request, held_notice(message.hold.reason_kinds))  # R-MSG-7: told at once
            return redirect(conversation)
    before = _before(request)
    page = selectors.history_page(conversation, before_id=before, viewer=request.user)
    if before is None and page.messages:
        conversation_mark_read(conversation_id=conversation.pk, user=request.user, up_to_id=page.messages[-1].pk)
    partner = conversation.partner_of(request.user)
    # The read receipt goes on the viewer's last delivered message the partner has read (R-MSG-3).
    partner_read = selectors.read_up_to(conversation, partner.pk)
    mine_read = [
        m.pk
        for m in page.messages
        if m.sender_id == request.user.pk and m.status == Message.Status.DELIVERED and m.pk <= partner_read
    ]
    context = {
        "conversation": conversation,
        "partner": partner,
        "read_receipt_id": mine_read[-1] if mine_read else None,
        "page": page,
        "paging_back": before is not None,
        "draft": draft,
        "error": error,
        "special_warning": special_warning,
        "max_length": MESSAGE_MAX_LENGTH,
        "was_read": selectors.conversation_was_read(conversation),  # R-MSG-5: the member sees who read it
        "title": f"Messages with {partner.first_name}",
    }
    response = render(request, "messaging/conversation_detail.html", context, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
