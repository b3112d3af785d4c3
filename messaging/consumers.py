from channels.generic.websocket import AsyncJsonWebsocketConsumer

from messaging.services import user_group


class NotificationConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the unread count to every open page of one signed-in member."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # The socket only listens; anything sent (JSON or not) gets a clear error, never a crash.
        await self.send_json({"error": "This socket does not accept messages."})

    async def notification_count(self, event):
        await self.send_json({"unread": event["unread"]})

    async def session_logout(self, event):
        # The member signed out (on any device): this page must stop listening.
        await self.close(code=4401)
