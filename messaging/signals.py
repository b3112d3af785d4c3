"""Close a member's sockets when they sign out."""

from django.contrib.auth.signals import user_logged_out
from django.db import transaction

from messaging.services import sockets_close_for


def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        user_id = user.pk
        transaction.on_commit(lambda: sockets_close_for(user_id), robust=True)


def connect() -> None:
    user_logged_out.connect(_signed_out, dispatch_uid="messaging-close-sockets-on-logout")
