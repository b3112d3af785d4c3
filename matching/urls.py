from django.urls import path

from matching import views

urlpatterns = [
    path("mentoring/profile/", views.mentor_profile_edit, name="mentor_profile_edit"),
    path("mentoring/goals/", views.mentee_goals_edit, name="mentee_goals_edit"),
    path("mentors/", views.mentor_list, name="mentor_list"),
    path("mentors/<int:pk>/", views.mentor_detail, name="mentor_detail"),
    path("mentors/<int:pk>/report/", views.profile_report, name="profile_report"),
    path("mentors/<int:pk>/concern/", views.profile_concern, name="profile_concern"),
    path("mentors/<int:pk>/request/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/accept/", views.request_accept, name="request_accept"),
    path("requests/<int:pk>/decline/", views.request_decline, name="request_decline"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:pk>/confirm/", views.proposal_confirm, name="proposal_confirm"),
    path("proposals/<int:pk>/decline/", views.proposal_decline, name="proposal_decline"),
]
