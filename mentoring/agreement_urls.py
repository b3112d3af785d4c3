from django.urls import path

from mentoring import agreement_views as views

urlpatterns = [
    path("pairings/<int:pk>/agreement/", views.agreement_detail, name="agreement_detail"),
    path("pairings/<int:pk>/agreement/confirm/", views.agreement_confirm, name="agreement_confirm"),
    path("pairings/<int:pk>/agreement/versions/<int:number>/", views.agreement_version, name="agreement_version"),
    path("pairings/<int:pk>/goals/", views.goals_list, name="goals_list"),
    path("pairings/<int:pk>/goals/<int:goal_pk>/status/", views.goal_status, name="goal_status"),
    path("pairings/<int:pk>/goals/<int:goal_pk>/progress/", views.goal_progress, name="goal_progress"),
    path("pairings/<int:pk>/notes/", views.session_notes, name="session_notes"),
    path("cpd/", views.cpd_log, name="cpd_log"),
    path("cpd/download/", views.cpd_download, name="cpd_download"),
]
