import zoneinfo

from django.utils import timezone

from accounts.two_factor import needs_two_factor, two_factor_setup


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
        if request.path.startswith("/admin/") and needs_two_factor(getattr(request, "user", None)):
            return two_factor_setup(request)
        return self.get_response(request)
