from django.urls import path

from mentoring import ending_views

urlpatterns = [
    path("pairings/<int:pk>/end/", ending_views.pairing_end, name="pairing_end"),
    path("pairings/<int:pk>/feedback/<slug:stage>/", ending_views.pairing_feedback, name="pairing_feedback"),
    path("membership/<int:pk>/pause/", ending_views.membership_pause, name="membership_pause"),
    path("membership/<int:pk>/resume/", ending_views.membership_resume, name="membership_resume"),
    path("membership/<int:pk>/withdraw/", ending_views.membership_withdraw, name="membership_withdraw"),
]
