"""The only writers of a member's details."""

from django.db import transaction

from accounts.models import MembershipStatus, User, normalise_membership_number


@transaction.atomic
def member_details_update(*, user: User, details: dict) -> User:
    """Save the member's own details. A changed membership number must be checked again."""
    languages = details.pop("languages", None)
    if "membership_number" in details:
        details["membership_number"] = normalise_membership_number(details["membership_number"])
    if "membership_number" in details and details["membership_number"] != user.membership_number and user.pk:
        user.membership_status = MembershipStatus.UNVERIFIED
        user.membership_expires_on = None
    for name, value in details.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password", "languages"])
    user.save()
    if languages is not None:
        user.languages.set(languages)
    return user
