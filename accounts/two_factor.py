"""Who must set up TOTP two-factor before using the pages that show other people's confidential data (DESIGN)."""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect


def needs_two_factor(user) -> bool:
    """An admin user (staff, coordinator, Safeguarding Lead) without TOTP, where the setting requires it."""
    return bool(
        settings.MFA_REQUIRED_FOR_STAFF
        and user is not None
        and user.is_authenticated
        and user.is_staff
        and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
    )


def two_factor_setup(request, what: str = "use the administration"):
    """Send an admin user without TOTP to set it up, saying why."""
    messages.warning(request, f"Set up two-factor authentication with an authenticator app to {what}.")
    return redirect("mfa_activate_totp")
