from messaging.selectors import unread_total
from messaging.services import unread_count


def notifications(request):
    """The bell's unread count and the "Messages" link's unread messages in the navigation bar: one COUNT
    query each, only when signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user), "unread_messages": unread_total(user)}
