from django.urls import include, path

from safeguarding import views

urlpatterns = [
    path("complaints/", views.complaint_list, name="complaint_list"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/", views.complaint_detail, name="complaint_detail"),
    path("safeguarding/contact/", views.safeguarding_contact, name="safeguarding_contact"),
    path("safeguarding/concerns/", views.concern_list, name="concern_list"),
    path("safeguarding/concerns/<int:pk>/", views.concern_detail, name="concern_detail"),
    path("", include("safeguarding.training_urls")),  # issue 9: training events
]
