import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ValidationError

# Consumers are the top layer (DESIGN.md, Layers): they send through the same service as the page.
from mentoring.messages import message_send
from messaging.models import Conversation, Message
from messaging.services import conversation_group, message_payload, messages_after, user_group
from messaging.special_category import SpecialCategoryWarning

logger = logging.getLogger(__name__)


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


# How many missed messages one "resume" sends back at most; the page reloads beyond that.
RESUME_LIMIT = 500


@database_sync_to_async
def _conversation_for(user, pk: int) -> Conversation | None:
    return Conversation.objects.for_participant(user).filter(pk=pk).first()


@database_sync_to_async
def _missed(conversation: Conversation, after_id: int, viewer) -> list[dict]:
    missed = messages_after(conversation=conversation, after_id=after_id, limit=RESUME_LIMIT, viewer=viewer)
    return [message_payload(m) for m in missed]


@database_sync_to_async
def _send(conversation_id: int, sender, body: str, confirm_special: bool = False) -> dict:
    """The sender's answer: the new id, and for a held message (R-MSG-7) the message with the reason it is held."""
    message = message_send(conversation_id=conversation_id, sender=sender, body=body, confirm_special=confirm_special)
    if message.status == Message.Status.HELD:
        return {"ok": message.pk, "held": message_payload(message)}
    return {"ok": message.pk}


class ConversationConsumer(AsyncJsonWebsocketConsumer):
    """One pairing's conversation, live (R-MSG-2). Frames from the page:
    {"action": "resume", "after": <last id>} and {"action": "send", "body": "...", "confirm_special": true|false};
    every bad frame gets {"error": ...}, never a traceback. Text that seems to hold special-category data gets
    {"warning": ..., "needs_confirm": true} (R-MSG-4) until it is resent with "confirm_special": true."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        pk = self.scope["url_route"]["kwargs"]["pk"]
        self.conversation = await _conversation_for(user, pk)
        if self.conversation is None:
            await self.close(code=4403)
            return
        self.groups_joined = [conversation_group(self.conversation.pk), user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", ()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            frame = json.loads(text_data or "")
        except (TypeError, ValueError):
            await self.send_json({"error": 'Send JSON frames: {"action": "send", "body": "…"}.'})
            return
        action = frame.get("action") if isinstance(frame, dict) else None
        if action == "send":
            await self._action_send(frame.get("body"), confirm_special=frame.get("confirm_special") is True)
        elif action == "resume":
            await self._action_resume(frame.get("after"))
        else:
            await self.send_json({"error": 'Unknown action: use "send" or "resume".'})

    async def _action_send(self, body, *, confirm_special: bool = False):
        if not isinstance(body, str):
            await self.send_json({"error": "Write a message before you send it."})
            return
        try:
            answer = await _send(self.conversation.pk, self.scope["user"], body, confirm_special)
        except SpecialCategoryWarning as warning:
            await self.send_json({"warning": warning.text, "needs_confirm": True})
        except ValidationError as refused:
            await self.send_json({"error": " ".join(refused.messages)})
        except Conversation.DoesNotExist:
            await self.close(code=4403)
        else:
            await self.send_json(answer)

    async def _action_resume(self, after):
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            await self.send_json({"error": 'Resume with the id of the last message you have: {"after": 123}.'})
            return
        for payload in await _missed(self.conversation, after, self.scope["user"]):
            await self.send_json({"message": payload})

    async def message_new(self, event):
        await self.send_json({"message": event["message"]})

    async def notification_count(self, event):
        pass  # the bell's own socket shows it; this one joined the member's group only to hear a logout

    async def session_logout(self, event):
        await self.close(code=4401)
