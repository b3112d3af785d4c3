from messaging.selectors import unread_badges


def notifications(request):
    """The bell's unread count and the "Messages" link's unread messages in the navigation bar: one query,
    only when signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    notifications, messages = unread_badges(user.pk)
    return {"unread_notifications": notifications, "unread_messages": messages}
