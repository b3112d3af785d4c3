"""Who holds which role. Roles are groups made by a data migration; superusers hold every role."""

from django.conf import settings


def is_coordinator(user) -> bool:
    return user.is_authenticated and user.in_group(settings.GROUP_COORDINATORS)


def is_scheme_staff(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.in_group(settings.GROUP_STAFF))


def is_safeguarding_lead(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.in_group(settings.GROUP_SAFEGUARDING_LEAD))
