"""A member's complaints (R-SAFE-4): raise one, follow its status and outcome."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from accounts.two_factor import needs_two_factor, two_factor_setup
from mentoring.models import Pairing
from safeguarding import complaints, concerns, confidential
from safeguarding.audit import audit
from safeguarding.forms import ComplaintForm
from safeguarding.models import Complaint


@login_required
def complaint_new(request):
    if request.method == "POST" and request.POST.get("at_risk") == "yes":
        # A safeguarding matter is not a complaint: it goes to the Safeguarding Lead, and nothing is stored here.
        return redirect("safeguarding_contact")
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


# Until issue 9 builds the Safeguarding Lead's own pages: concerns listed to that group only (R-SAFE-1, R-MSG-6).
LEAD_PAGES = "see safeguarding concerns"


@login_required
def concern_list(request):
    """The Safeguarding Lead group's queue: urgent first, then the oldest. Anyone else: 404."""
    queue = concerns.concern_queue(request.user)
    if needs_two_factor(request.user):
        return two_factor_setup(request, LEAD_PAGES)
    page = Paginator(queue, 50).get_page(request.GET.get("page"))
    return render(request, "safeguarding/concern_list.html", {"title": "Safeguarding concerns", "page": page})


@login_required
def concern_detail(request, pk: int):
    """One concern, for the Safeguarding Lead group only (anyone else: 404). Each reading is audited."""
    concern = concerns.access_concern(request.user, pk)
    if needs_two_factor(request.user):
        return two_factor_setup(request, LEAD_PAGES)
    audit(actor=request.user, action=f"{concerns.AUDIT_PREFIX}viewed", target_user=concern.person, obj=concern)
    conversation_id = concern.message.conversation_id if concern.message else None
    if conversation_id is None and concern.pairing_id is not None:
        conversation_id = getattr(getattr(concern.pairing, "conversation", None), "pk", None)
    context = {
        "title": f"Safeguarding concern {concern.pk}",
        "concern": concern,
        "conversation_id": conversation_id,
        "may_read": confidential.may_read_confidential(request.user),
    }
    return render(request, "safeguarding/concern_detail.html", context)
