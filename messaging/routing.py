from django.urls import path

from messaging.consumers import ConversationConsumer, NotificationConsumer

websocket_urlpatterns = [
    path("ws/notifications/", NotificationConsumer.as_asgi()),
    path("ws/messages/<int:pk>/", ConversationConsumer.as_asgi()),
]
