from django.urls import path

from mentoring import meeting_views as views

urlpatterns = [
    path("pairings/<int:pk>/meetings/new/", views.meeting_propose, name="meeting_propose"),
    path("meetings/<int:pk>/accept/", views.meeting_accept, name="meeting_accept"),
    path("meetings/<int:pk>/decline/", views.meeting_decline, name="meeting_decline"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/held/", views.meeting_held, name="meeting_held"),
    path("meetings/<int:pk>/missed/", views.meeting_missed, name="meeting_missed"),
    path("meetings/<int:pk>/reschedule/", views.meeting_reschedule, name="meeting_reschedule"),
    path("meetings/<int:pk>.ics", views.meeting_ics, name="meeting_ics"),
    path("calendar/", views.calendar_page, name="calendar_page"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar_revoke"),
    path("calendar/<slug:token>.ics", views.calendar_feed, name="calendar_feed"),
]
