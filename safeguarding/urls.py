from django.urls import include, path

from safeguarding import views

urlpatterns = [
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("safeguarding/contact/", views.safeguarding_contact, name="safeguarding_contact"),
    path("safeguarding/concerns/new/", views.concern_new, name="concern_new"),
    path("safeguarding/concerns/sent/", views.concern_received, name="concern_received"),
    # The Safeguarding Lead's own pages (issue 9, item 2); suspending is in mentoring/suspension_urls.py.
    path("safeguarding/concerns/", views.concern_list, name="concern_list"),
    path("safeguarding/concerns/<int:pk>/", views.concern_detail, name="concern_detail"),
    path("safeguarding/concerns/<int:pk>/notes/", views.concern_note_add, name="concern_note_add"),
    path("safeguarding/concerns/<int:pk>/actions/", views.concern_action_add, name="concern_action_add"),
    path("safeguarding/concerns/<int:pk>/status/", views.concern_status_set, name="concern_status_set"),
    path("", include("safeguarding.training_urls")),  # issue 9: training events
]
