"""A member's complaints (R-SAFE-4) and safeguarding concerns (R-SAFE-1); the Safeguarding Lead's own pages
(R-SAFE-2). Suspending a member from the case page is mentoring/suspension_views.py."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.two_factor import needs_two_factor, two_factor_setup
from mentoring.models import Pairing, SchemeMembership
from messaging.models import Conversation
from safeguarding import complaints, concerns, confidential
from safeguarding.audit import audit
from safeguarding.forms import (
    ComplaintForm,
    ConcernForm,
    ConcernNoteForm,
    ConcernStatusForm,
    LiftForm,
    SuspendForm,
)
from safeguarding.models import Complaint, ConcernNote, Suspension


@login_required
def complaint_new(request):
    if request.method == "POST" and request.POST.get("at_risk") == "yes":
        # A safeguarding matter is not a complaint: it goes to the Safeguarding Lead, and nothing is stored here.
        return redirect("concern_new")
    initial = {}
    pairing_id = request.GET.get("pairing", "")
    if pairing_id.isdigit() and Pairing.objects.visible_to(request.user).filter(pk=int(pairing_id)).exists():
        initial = {"about": Complaint.About.PAIRING, "pairing": int(pairing_id)}  # from the pairing page
    form = ComplaintForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            complaint = complaints.complaint_make(
                complainant=request.user,
                about=form.cleaned_data["about"],
                text=form.cleaned_data["text"],
                person=form.cleaned_data["person"],
                pairing=form.cleaned_data["pairing"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, "Thank you. We have received your complaint.")
            return redirect(complaint)
    status = 400 if form.is_bound else 200
    return render(
        request, "safeguarding/complaint_new.html", {"title": "Make a complaint", "form": form}, status=status
    )


@login_required
def complaint_list(request):
    mine = Complaint.objects.filter(complainant=request.user).select_related("person", "pairing__scheme")
    return render(request, "safeguarding/complaint_list.html", {"title": "My complaints", "complaints": mine})


@login_required
def complaint_detail(request, pk: int):
    complaint = get_object_or_404(
        Complaint.objects.filter(complainant=request.user).select_related(
            "person", "pairing__mentor", "pairing__mentee", "pairing__scheme", "message__sender"
        ),
        pk=pk,
    )
    return render(request, "safeguarding/complaint_detail.html", {"title": "Your complaint", "complaint": complaint})


def safeguarding_contact(request):
    """How to reach the Safeguarding Lead. Open to anyone: someone at risk may not be signed in."""
    return render(
        request,
        "safeguarding/safeguarding_contact.html",
        {"title": "Report a safeguarding concern", "safeguarding_email": settings.SAFEGUARDING_EMAIL},
    )


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 12 else None


@login_required
def concern_new(request):
    """The Incident Reporting Form (R-SAFE-1), from the footer of every page or a pairing's page (?person=id of
    the partner). Stored first, then the Safeguarding Lead group is told; the reporter gets a receipt only."""
    person_id = _int_param(request, "person")
    initial = {}
    if person_id is not None and concerns.concern_people(request.user).filter(pk=person_id).exists():
        initial["person"] = person_id
    form = ConcernForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern = concerns.concern_raise(
                reporter=request.user,
                what_happened=data["what_happened"],
                immediate_risk=data["immediate_risk"] == "yes",
                happened_on=data["happened_on"],
                person=data.get("person"),
                person_name=data.get("person_name", ""),
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            return concern_receipt(request, concern)
    return render(
        request,
        "safeguarding/concern_new.html",
        {"title": "Report a safeguarding concern", "form": form, "safeguarding_email": settings.SAFEGUARDING_EMAIL},
        status=400 if form.is_bound else 200,
    )


def concern_receipt(request, concern):
    """After a concern is stored: the reporter's receipt, on the next page. They never see the case itself."""
    messages.success(request, concerns.receipt_text(concern))
    return redirect("concern_received")


@login_required
def concern_received(request):
    """What happens after a concern is raised (the receipt itself is the message above it)."""
    return render(
        request,
        "safeguarding/concern_received.html",
        {"title": "Your concern has been sent", "safeguarding_email": settings.SAFEGUARDING_EMAIL},
    )


# The Safeguarding Lead's own pages (R-SAFE-2): the group alone, with two-factor; everyone else gets 404.
LEAD_PAGES = "see safeguarding concerns"


@login_required
def concern_list(request):
    """The Safeguarding Lead group's queue: open first, urgent first, then the oldest; filtered by state."""
    status = request.GET.get("status", "open")
    if status not in concerns.QUEUE_FILTERS:
        status = "open"
    queue = concerns.concern_queue(request.user, status)
    if needs_two_factor(request.user):
        return two_factor_setup(request, LEAD_PAGES)
    page = Paginator(queue, 50).get_page(request.GET.get("page"))
    counts = concerns.concern_counts(request.user)
    context = {
        "title": "Safeguarding concerns",
        "page": page,
        "status": status,
        "filters": [(key, label, counts[key]) for key, label in concerns.QUEUE_FILTERS.items()],
        "urgent_open": counts["urgent"],
    }
    return render(request, "safeguarding/concern_list.html", context)


def concern_page(request, concern, *, status: int = 200, **forms):
    """The case page, with any form the Lead just sent (and its errors) in place of the empty one."""
    conversation_id = concern.message.conversation_id if concern.message else None
    if conversation_id is None and concern.pairing_id is not None:
        conversation_id = (
            Conversation.objects.filter(pairing_id=concern.pairing_id).values_list("pk", flat=True).first()
        )
    suspension = (
        Suspension.objects.filter(member_id=concern.person_id, lifted_at__isnull=True)
        .select_related("suspended_by", "concern")
        .first()
        if concern.person_id
        else None
    )
    context = {
        "title": f"Safeguarding concern {concern.pk}",
        "concern": concern,
        "notes": concerns.concern_notes(concern),
        "conversation_id": conversation_id,
        "may_read": confidential.may_read_confidential(request.user),
        "suspension": suspension,
        "past_suspensions": Suspension.objects.filter(member_id=concern.person_id, lifted_at__isnull=False)
        .select_related("suspended_by", "lifted_by")
        .order_by("-suspended_at")
        if concern.person_id
        else (),
        "memberships": SchemeMembership.objects.filter(user_id=concern.person_id).select_related("scheme", "network")
        if concern.person_id
        else (),
        "note_form": forms.get("note_form") or ConcernNoteForm(prefix="note"),
        "action_form": forms.get("action_form") or ConcernNoteForm(prefix="action", kind=ConcernNote.Kind.ACTION),
        "status_form": forms.get("status_form") or ConcernStatusForm(prefix="move", concern=concern),
        "suspend_form": forms.get("suspend_form") or SuspendForm(prefix="suspend"),
        "lift_form": forms.get("lift_form") or LiftForm(prefix="lift"),
        # What the Lead just sent was refused: said at the top, as the form it concerns may not be shown any more.
        "refused": [error for form in forms.values() for error in form.non_field_errors()],
    }
    return render(request, "safeguarding/concern_detail.html", context, status=status)


def lead_concern(request, pk: int):
    """The concern for the Lead's page, or None when they must set up two-factor first (then redirect)."""
    concern = concerns.access_concern(request.user, pk)
    if needs_two_factor(request.user):
        return None
    return concern


@login_required
def concern_detail(request, pk: int):
    """One concern, for a Lead who may handle it (anyone else: 404). Each reading is audited."""
    concern = lead_concern(request, pk)
    if concern is None:
        return two_factor_setup(request, LEAD_PAGES)
    audit(actor=request.user, action=f"{concerns.AUDIT_PREFIX}viewed", target_user=concern.person, obj=concern)
    return concern_page(request, concern)


def _note(request, pk: int, kind: str):
    concern = lead_concern(request, pk)
    if concern is None:
        return two_factor_setup(request, LEAD_PAGES)
    prefix = "action" if kind == ConcernNote.Kind.ACTION else "note"
    form = ConcernNoteForm(request.POST, prefix=prefix, kind=kind)
    if form.is_valid():
        try:
            concerns.concern_note_add(
                concern_id=concern.pk, actor=request.user, text=form.cleaned_data["text"], kind=kind
            )
        except ValidationError as refused:
            form.add_error("text", refused)
        else:
            messages.success(request, "Action recorded." if kind == ConcernNote.Kind.ACTION else "Note added.")
            return redirect(concern)
    return concern_page(request, concern, status=400, **{f"{prefix}_form": form})


@login_required
@require_POST
def concern_note_add(request, pk: int):
    return _note(request, pk, ConcernNote.Kind.NOTE)


@login_required
@require_POST
def concern_action_add(request, pk: int):
    return _note(request, pk, ConcernNote.Kind.ACTION)


@login_required
@require_POST
def concern_status_set(request, pk: int):
    """Triage: move the concern to a state its present one allows; closing needs the outcome."""
    concern = lead_concern(request, pk)
    if concern is None:
        return two_factor_setup(request, LEAD_PAGES)
    form = ConcernStatusForm(request.POST, prefix="move", concern=concern)
    if form.is_valid():
        try:
            concern = concerns.concern_status_set(
                concern_id=concern.pk,
                actor=request.user,
                status=form.cleaned_data["status"],
                outcome=form.cleaned_data["outcome"],
            )
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, f"The concern is now “{concern.get_status_display()}”.")
            return redirect(concern)
    return concern_page(request, concern, status=400, status_form=form)
