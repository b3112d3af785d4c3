"""Complaints (R-SAFE-4): a member raises one; coordinators of their networks and staff move it
received -> investigating -> resolved or dismissed, with an outcome; the complainant is told each change."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mentoring import permissions
from mentoring.models import Pairing
from messaging.models import Message
from messaging.selectors import reportable_message
from messaging.services import notify, notify_many
from safeguarding.audit import audit
from safeguarding.models import Complaint

Status = Complaint.Status

NEXT = {
    Status.RECEIVED: (Status.INVESTIGATING, Status.RESOLVED, Status.DISMISSED),
    Status.INVESTIGATING: (Status.RESOLVED, Status.DISMISSED),
    Status.RESOLVED: (),
    Status.DISMISSED: (),
}


def complaint_people(user):
    """The people a member may name in a complaint: everyone they were paired with or asked, or who asked them."""
    pairings = Pairing.objects.visible_to(user)
    return (
        User.objects.filter(
            Q(pairings_as_mentor__in=pairings)
            | Q(pairings_as_mentee__in=pairings)
            | Q(requests_received__mentee=user)
            | Q(requests_sent__mentor=user)
        )
        .exclude(pk=user.pk)
        .distinct()
        .order_by("first_name", "last_name")
    )


@transaction.atomic(durable=True)
def complaint_make(
    *,
    complainant,
    about: str,
    text: str,
    person: User | None = None,
    pairing: Pairing | None = None,
    message: Message | None = None,
) -> Complaint:
    """A member raises a complaint; it is acknowledged to them at once.

    From a message (R-MSG-6) the complaint is about its sender, in their pairing, and names the message:
    only a message from the complainant's partner in their own conversation (else Http404).
    """
    text = text.strip()
    if not text:
        raise ValidationError("Tell us what happened.")
    if about not in Complaint.About.values:
        raise ValidationError("Say what the complaint is about.")
    if message is not None:
        message = reportable_message(complainant, conversation_id=message.conversation_id, message_id=message.pk)
        about, person, pairing = Complaint.About.PERSON, message.sender, message.conversation.pairing
    elif about == Complaint.About.PERSON:
        if person is None or not complaint_people(complainant).filter(pk=person.pk).exists():
            raise ValidationError("Choose the person the complaint is about.")
        pairing = None
    elif about == Complaint.About.PAIRING:
        if pairing is None or not Pairing.objects.visible_to(complainant).filter(pk=pairing.pk).exists():
            raise ValidationError("Choose the pairing the complaint is about.")
        person = None
    else:
        person = pairing = None
    complaint = Complaint.objects.create(
        complainant=complainant, about=about, person=person, pairing=pairing, message=message, text=text
    )
    audit(actor=complainant, action="complaint.received", target_user=person, obj=complaint)
    notify(
        complainant,
        "complaint_received",
        complaint,
        body="We acknowledge every complaint within five working days. You can follow it on your complaints page.",
    )
    handlers = complaint_handlers(complaint)
    if handlers:
        notify_many(
            handlers,
            "complaint_made",
            complaint,
            body=f"{complaint.get_about_display()}"
            + (", about a message in their conversation" if message is not None else "")
            + ". Acknowledge it within five working days.",
            url=reverse("admin:safeguarding_complaint_change", args=[complaint.pk]),
        )
    return complaint


def complaint_handlers(complaint: Complaint) -> list[User]:
    """Who is told of a new complaint: the coordinators of the complainant's networks, or staff if
    there are none; never the person it is about."""
    coordinators = User.objects.filter(
        coordinated_networks__memberships__user=complaint.complainant, is_active=True
    ).distinct()
    people = [p for p in coordinators if may_handle(p, complaint)]
    if not people:
        staff = User.objects.filter(groups__name=settings.GROUP_STAFF, is_active=True, is_staff=True).distinct()
        people = [p for p in staff if may_handle(p, complaint)]
    return people


def may_handle(user, complaint: Complaint) -> bool:
    """Staff handle any complaint; a coordinator those of members in their networks, never one about themselves."""
    if complaint.person_id is not None and complaint.person_id == user.pk:
        return False
    if complaint.pairing_id is not None and user.pk in (complaint.pairing.mentor_id, complaint.pairing.mentee_id):
        return False
    if permissions.is_scheme_staff(user):
        return True
    return permissions.is_coordinator(user) and permissions.covers_member(user, complaint.complainant)


def status_change_check(complaint: Complaint, status: str, outcome: str) -> None:
    """Refuse a move the states do not allow, or an end without an outcome."""
    if status == complaint.status:
        if complaint.is_closed and outcome.strip() != complaint.outcome:
            raise ValidationError("This complaint is closed; its outcome cannot change.")
        return
    if status not in NEXT.get(complaint.status, ()):
        raise ValidationError(
            f"A complaint that is {complaint.status_label} cannot become {Status(status).label.lower()}."
        )
    if status in (Status.RESOLVED, Status.DISMISSED) and not outcome.strip():
        raise ValidationError("Write the outcome, so the member knows what was decided and why.")


@transaction.atomic
def complaint_status_set(*, complaint_id: int, status: str, outcome: str, actor) -> Complaint:
    """Move a complaint on; the complainant is told. Audited."""
    complaint = (
        Complaint.objects.select_for_update(of=("self",)).select_related("complainant", "pairing").get(pk=complaint_id)
    )
    permissions.require(may_handle(actor, complaint), "You cannot handle this complaint.")
    if status not in Status.values:
        raise ValidationError("Choose a status.")
    status_change_check(complaint, status, outcome)
    outcome = outcome.strip()
    if status == complaint.status and outcome == complaint.outcome:
        return complaint
    previous = complaint.status
    complaint.status = status
    complaint.outcome = outcome
    complaint.handled_by = actor
    complaint.status_changed_at = timezone.now()
    complaint.save(update_fields=["status", "outcome", "handled_by", "status_changed_at"])
    audit(
        actor=actor,
        action="complaint.status",
        target_user=complaint.complainant,
        obj=complaint,
        previous=previous,
        status=status,
    )
    notify(complaint.complainant, "complaint_status", complaint, body=outcome)
    return complaint
