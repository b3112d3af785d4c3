from django.urls import path

from mentoring import suspension_views

urlpatterns = [
    path("safeguarding/concerns/<int:pk>/suspend/", suspension_views.concern_member_suspend, name="member_suspend"),
    path("safeguarding/concerns/<int:pk>/lift/", suspension_views.concern_suspension_lift, name="suspension_lift"),
]
