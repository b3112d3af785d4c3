import zoneinfo

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone


class UserTimezoneMiddleware:
    """Show every date in the signed-in member's own time zone (R-DATA-3)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.time_zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class StaffTwoFactorMiddleware:
    """Staff, coordinators and the Safeguarding Lead use the admin only with TOTP two-factor set up (DESIGN).

    Off when MFA_REQUIRED_FOR_STAFF is false (the default with DEBUG, so a laptop demo needs no app).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith("/admin/")
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        ):
            messages.warning(
                request, "Set up two-factor authentication with an authenticator app to use the administration."
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
