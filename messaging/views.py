from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from messaging.models import Notification
from messaging.services import notification_mark_read


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
