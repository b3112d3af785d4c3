"""A member's complaints (R-SAFE-4): raise one, follow its status and outcome."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from mentoring.models import Pairing
from safeguarding import complaints
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
            "person", "pairing__mentor", "pairing__mentee", "pairing__scheme"
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
