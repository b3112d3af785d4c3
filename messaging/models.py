"""In-platform notifications (R-MSG-3) and the pair's conversation (R-MSG-1, R-MSG-2)."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone

from messaging.contact_details import held_notice, rejected_notice

# A worker that claimed a row and died leaves the claim behind: after this long
# another run may take the row over. It must exceed the longest a send can take
# (the SMTP timeout), or a slow send could be taken over and sent twice.
EMAIL_CLAIM_EXPIRES = datetime.timedelta(minutes=15)


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def email_due(self, *, now):
        """Rows to email: wanted, not sent, not given up on, and not claimed by a worker that may still be sending."""
        return self.filter(
            models.Q(email_claimed_at__isnull=True) | models.Q(email_claimed_at__lt=now - EMAIL_CLAIM_EXPIRES),
            email_wanted=True,
            emailed_at__isnull=True,
            email_failed_at__isnull=True,
        )


class Notification(models.Model):
    """One thing a member should know. Written before any delivery (persist, then deliver)."""

    # Indexed by notification_unread_idx, which begins with it: with an index of its own as well, PostgreSQL
    # read all of a member's notifications to find an unread one (the facts of every message sent).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Email state: wanted → claimed by a sending run → emailed, or failed with its error.
    email_wanted = models.BooleanField(default=False)
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            # The sending run's sweep, kept small: sent and failed rows drop out of it.
            models.Index(
                fields=["email_claimed_at"],
                condition=models.Q(email_wanted=True, emailed_at__isnull=True, email_failed_at__isnull=True),
                name="notification_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.user}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


# The longest message a member may send (issue 8, item 4); the service says so in words.
MESSAGE_MAX_LENGTH = 2000


class ConversationQuerySet(models.QuerySet):
    def for_participant(self, user):
        """The conversations `user` is one of the two members of: the only way a view or consumer fetches one."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(models.Q(first_member=user) | models.Q(second_member=user))


class Conversation(models.Model):
    """One per pairing, opened with it (R-MSG-1); read-only once the pairing ends.

    The pairing is named by string: messaging sits below mentoring and never imports it.
    """

    pairing = models.OneToOneField("mentoring.Pairing", on_delete=models.CASCADE, related_name="conversation")
    first_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    second_member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(first_member=models.F("second_member")), name="conversation_two_people"
            ),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("conversation_detail", args=[self.pk])

    def partner_of(self, user):
        return self.second_member if user.pk == self.first_member_id else self.first_member


class MessageQuerySet(models.QuerySet):
    def delivered(self):
        return self.filter(status=Message.Status.DELIVERED)

    def seen_by(self, user):
        """What `user` sees of a conversation: delivered messages, and their own held or rejected ones (R-MSG-7).
        A partner never sees a held message; with no user, only delivered ones."""
        if user is None:
            return self.delivered()
        return self.filter(
            models.Q(status=Message.Status.DELIVERED)
            | models.Q(sender=user, status__in=[Message.Status.HELD, Message.Status.REJECTED])
        )


class Message(models.Model):
    """Plain text, stored before it is delivered (R-MSG-2); escaped when shown.

    A message that seems to carry contact details, in a scheme that keeps contact on the platform, is stored
    HELD (R-MSG-7): only its sender sees it until a coordinator decides. Released, it is delivered as a new
    message (so it arrives after what the partner has already read, and a reconnecting page catches up on it)
    and this row becomes RELEASED, seen by no one; rejected, only its sender sees it, marked so.
    """

    class Status(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        HELD = "held", "Held for a coordinator"
        RELEASED = "released", "Released (delivered as a new message)"
        REJECTED = "rejected", "Rejected by a coordinator"

    # No index of their own: the indexes below begin with each (one index fewer to write per message).
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    body = models.CharField(max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DELIVERED)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [
            # History pages and reconnect catch-up both walk one conversation by id.
            models.Index(fields=["conversation", "id"], name="message_conversation_id_idx"),
            # The flood limit reads a member's most recent messages (services.message_post).
            models.Index(fields=["sender", "created_at"], name="message_sender_recent_idx"),
            # A new message's `previous`, the newest delivered one of its conversation, read for every message:
            # one index entry, however long the conversation (with the index above, PostgreSQL read all the
            # conversation's rows to skip held ones).
            models.Index(
                fields=["conversation", "id"],
                condition=models.Q(status="delivered"),
                name="message_delivered_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk}"

    @property
    def status_notice(self) -> str:
        """What its sender is told about a held or rejected message (R-MSG-7); empty for a delivered one."""
        if self.status == self.Status.HELD:
            return held_notice(self.hold.reason_kinds)
        if self.status == self.Status.REJECTED:
            return rejected_notice(self.hold.reason_kinds)
        return ""


class ConversationRead(models.Model):
    """How far one member has read one conversation: messages after `last_read_id` are unread."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="one_read_mark_per_member"),
        ]

    def __str__(self) -> str:
        return f"{self.user} read {self.conversation} up to {self.last_read_id}"


class HeldMessageQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(decision=HeldMessage.Decision.PENDING)


class HeldMessage(models.Model):
    """A message held because it seemed to carry contact details (R-MSG-7), and the coordinator's decision.

    The coordinators' queue in the admin: the one place anyone but the two members reads a message's text,
    and only while it waits. Written by messaging.services.message_post; decided through
    mentoring.messages.held_message_decide, which checks the coordinator covers the pairing's network.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        RELEASED = "released", "Released"
        REJECTED = "rejected", "Rejected"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="hold")
    # Which kinds of contact detail it seemed to carry (messaging.contact_details.KINDS), comma-separated:
    # never the matching text itself.
    reasons = models.CharField(max_length=100)
    held_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    delivered_as = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="released_from"
    )

    objects = HeldMessageQuerySet.as_manager()

    class Meta:
        ordering = ["held_at", "pk"]
        verbose_name = "held message"
        indexes = [models.Index(fields=["decision", "held_at"], name="held_message_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="pending", decided_at__isnull=True)
                | (~models.Q(decision="pending") & models.Q(decided_at__isnull=False)),
                name="held_message_decided_with_a_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Held message {self.pk}"

    @property
    def reason_kinds(self) -> list[str]:
        return [kind for kind in self.reasons.split(",") if kind]


class SpecialCategoryWarningCount(models.Model):
    """How many special-category warnings messages raised in one scheme on one day, and how many of those
    the writer sent anyway (R-MSG-4). Only counts: never the text, the words or who wrote it.

    The scheme is named by string: messaging never imports mentoring.
    """

    scheme = models.ForeignKey("mentoring.Scheme", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    warned = models.PositiveIntegerField(default=0)
    sent_anyway = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "scheme"]
        verbose_name = "special-category warning count"
        constraints = [models.UniqueConstraint(fields=["scheme", "day"], name="one_warning_count_per_scheme_day")]

    def __str__(self) -> str:
        return f"{self.scheme} {self.day}: {self.warned} warned, {self.sent_anyway} sent anyway"


# Confidential access (R-MSG-5): staff and the Safeguarding Lead read a conversation only under a grant that
# names the complaint or concern it serves and a reason, for at most a day; each read is logged for good.
ACCESS_GRANT_MAX = datetime.timedelta(hours=24)


class ConversationAccessGrant(models.Model):
    """One reader's leave to read one conversation, for one complaint or one concern, until `expires_at`.

    Made by safeguarding.confidential.conversation_access_grant, which checks the reader's role and that the
    complaint or concern is about the conversation's people or pairing. The complaint and the concern are
    named by string: messaging never imports safeguarding.
    """

    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="access_grants")
    complaint = models.ForeignKey(
        "safeguarding.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    concern = models.ForeignKey(
        "safeguarding.Concern", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(complaint__isnull=False, concern__isnull=True)
                | models.Q(complaint__isnull=True, concern__isnull=False),
                name="access_grant_for_one_complaint_or_concern",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")), name="access_grant_ends_after_it_starts"
            ),
        ]

    def __str__(self) -> str:
        return f"Access to {self.conversation} for {self.purpose}"

    def save(self, *args, **kwargs):
        # The 24 hours are the rule itself (R-MSG-5), so no writer may stretch them, whatever path it takes.
        if self.expires_at is None or self.expires_at - self.created_at > ACCESS_GRANT_MAX:
            raise ValueError("An access grant lasts at most 24 hours.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("conversation_read", args=[self.pk])

    @property
    def purpose(self) -> str:
        """What the grant serves, as staff name it: "complaint 12" or "safeguarding concern 5"."""
        if self.complaint_id is not None:
            return f"complaint {self.complaint_id}"
        return f"safeguarding concern {self.concern_id}"

    @property
    def purpose_kind(self) -> str:
        """What a member is told the read was for (no numbers: they mean nothing to them)."""
        return "A complaint" if self.complaint_id is not None else "A safeguarding concern"

    def is_current(self, now=None) -> bool:
        return (now or timezone.now()) < self.expires_at


class AppendOnlyError(Exception):
    """A write that would change or remove a row of an append-only log."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are never changed.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are never deleted.")

    # bulk_update goes through update(); these say so in their own words.
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(f"{self.model.__name__} rows are never changed.")

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are never changed.")


class ConversationAccessLog(models.Model):
    """One read of a conversation under a grant: who, when, which grant and why (R-MSG-5).

    Append-only: the model and its queryset refuse to change or delete a row (and on PostgreSQL a trigger
    refuses it in the database too). Rows outlive nothing they point at: every reference protects.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="access_log")
    grant = models.ForeignKey(ConversationAccessGrant, on_delete=models.PROTECT, related_name="reads")
    reason = models.TextField(max_length=1000)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "conversation access log entry"
        verbose_name_plural = "conversation access log"

    def __str__(self) -> str:
        return f"{self.reader} read {self.conversation} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update") or kwargs.get("update_fields"):
            raise AppendOnlyError("Conversation access log rows are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Conversation access log rows are never deleted.")
