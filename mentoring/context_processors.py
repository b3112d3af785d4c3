from django.conf import settings

from mentoring.models import DocumentKind
from safeguarding.concerns import may_see_concerns


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "footer_documents": DocumentKind.choices,
        # The nav's "Concerns" link: the Safeguarding Lead group's alone (R-SAFE-2). Asked only when a page shows it.
        "sees_concerns": lambda: may_see_concerns(getattr(request, "user", None)),
    }
