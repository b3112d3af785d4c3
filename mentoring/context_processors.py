from django.conf import settings

from mentoring.models import DocumentKind


def site(request):
    return {"site_name": settings.SITE_NAME, "footer_documents": DocumentKind.choices}
