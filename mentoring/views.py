from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render

from mentoring import selectors, services
from mentoring.forms import DocumentsAcceptForm, SchemeJoinForm
from mentoring.models import DocumentKind, Scheme, TermsVersion


def home(request):
    schemes = Scheme.objects.filter(is_open=True)
    return render(request, "mentoring/home.html", {"schemes": schemes, "title": "Find a mentor, or become one"})


@login_required
def onboarding(request):
    """The checklist per scheme and role: what is met, what is not, and how to fix it (R-ELIG-6)."""
    checklists = selectors.onboarding_checklists(request.user)
    return render(
        request, "mentoring/onboarding.html", {"checklists": checklists, "title": "Your onboarding checklist"}
    )


@login_required
def scheme_join(request):
    form = SchemeJoinForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.memberships_join(
                user=request.user, scheme=data["scheme"], roles=data["roles"], network=data["network"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"You have joined {form.cleaned_data['scheme']}.")
            return redirect("onboarding")
    return render(request, "mentoring/scheme_join.html", {"form": form, "title": "Join a scheme"})


@login_required
def documents_accept(request):
    versions = selectors.versions_awaiting_acceptance(request.user)
    form = DocumentsAcceptForm(request.POST if request.method == "POST" else None, versions=versions)
    if request.method == "POST" and versions and form.is_valid():
        services.terms_accept(user=request.user, versions=versions)
        messages.success(request, "Thank you: your acceptance is recorded.")
        return redirect("onboarding")
    return render(
        request,
        "mentoring/documents_accept.html",
        {"form": form, "versions": versions, "title": "Accept the scheme documents"},
    )


def document_detail(request, kind: str):
    """The current published version of a scheme document, readable by anyone (R-SAFE-5)."""
    if kind not in DocumentKind.values:
        raise Http404("No such document.")
    version = TermsVersion.objects.current().filter(kind=kind).first()
    if version is None:
        raise Http404("This document has not been published yet.")
    return render(request, "mentoring/document_detail.html", {"version": version, "title": version.title})
