from django.urls import path

from safeguarding import training_views

urlpatterns = [
    path("training/", training_views.training_events, name="training_events"),
    path("training/events/<int:pk>/book/", training_views.training_event_book, name="training_event_book"),
    path("training/bookings/<int:pk>/cancel/", training_views.training_booking_cancel, name="training_booking_cancel"),
]
