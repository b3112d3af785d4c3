from django.conf import settings

from mentoring import permissions
from mentoring.models import DocumentKind
from safeguarding.concerns import may_see_concerns


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "footer_documents": DocumentKind.choices,
        # The nav's "Concerns" link: the Safeguarding Lead group's alone (R-SAFE-2). Asked only when a page shows it.
        "sees_concerns": lambda: may_see_concerns(getattr(request, "user", None)),
        # The nav's "Reports" link (issue 11): scheme staff and coordinators.
        "sees_reports": lambda: sees_reports(getattr(request, "user", None)),
    }


def sees_reports(user) -> bool:
    return permissions.is_scheme_staff(user) or permissions.is_coordinator(user)
