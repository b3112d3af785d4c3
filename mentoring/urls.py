from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from mentoring import views

# The admin signs in through allauth, so its rate limits (and MFA) apply there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Mentoring administration"
admin.site.site_title = "Mentoring administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("schemes/join/", views.scheme_join, name="scheme_join"),
    path("documents/accept/", views.documents_accept, name="documents_accept"),
    path("documents/<slug:kind>/", views.document_detail, name="document_detail"),
    path("accounts/details/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("notifications/", include("messaging.urls")),
    path("", include("matching.urls")),
    path("admin/", admin.site.urls),
]
