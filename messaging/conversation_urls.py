from django.urls import path

from messaging import confidential_views, views

# Included at /messages/ by mentoring/urls.py (the notifications keep /notifications/).
urlpatterns = [
    path("", views.conversation_list, name="conversation_list"),
    path("<int:pk>/", views.conversation_detail, name="conversation_detail"),
    # Reporting a message (R-MSG-6) and audited confidential access (R-MSG-5).
    path("<int:pk>/report/<int:message_pk>/", confidential_views.message_report, name="message_report"),
    path("<int:pk>/access/", confidential_views.conversation_access, name="conversation_access"),
    path("read/<int:pk>/", confidential_views.conversation_read, name="conversation_read"),
    path("access-log/", confidential_views.conversation_access_log, name="conversation_access_log"),
]
