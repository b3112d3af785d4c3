from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from mentoring import views
from mentoring.admin_scoping import view_on_site

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
    path("mentoring/", views.mentoring_home, name="mentoring_home"),
    path("pairings/<int:pk>/", views.pairing_detail, name="pairing_detail"),
    path("pairings/<int:pk>/rematch/", views.pairing_rematch, name="pairing_rematch"),
    path("", include("mentoring.ending_urls")),  # issue 7: ending, withdrawal, feedback
    path("", include("mentoring.agreement_urls")),  # issue 7: agreement, goals, session notes, CPD log
    path("", include("mentoring.meeting_urls")),  # issue 7: meetings and calendar feeds
    path("", include("mentoring.suspension_urls")),  # issue 9: the Safeguarding Lead suspends a member
    path("accounts/details/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("notifications/", include("messaging.urls")),
    path("messages/", include("messaging.conversation_urls")),  # issue 8: the pair's conversation
    path("", include("matching.urls")),
    path("", include("safeguarding.urls")),  # complaints (issue 7)
    path("", include("reports.urls")),  # issue 11: staff dashboards
    # Before the admin's own "view on site" route, which does not check who may see the object.
    path("admin/r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site)),
    path("admin/", admin.site.urls),
]
