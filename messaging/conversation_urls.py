from django.urls import path

from messaging import views

# Included at /messages/ by mentoring/urls.py (the notifications keep /notifications/).
urlpatterns = [
    path("", views.conversation_list, name="conversation_list"),
    path("<int:pk>/", views.conversation_detail, name="conversation_detail"),
]
