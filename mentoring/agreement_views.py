"""Pages for a pairing's agreement, goals and the mentor's private notes, and a mentor's CPD log.

A pairing is fetched through `access_pairing`, so another person's pairing id is 404. Bad input re-renders
the page with its message and a 400, having written nothing.
"""

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mentoring import agreement as services
from mentoring.models import AgreementVersion, CPDEntry, Pairing, PairingGoal
from mentoring.selectors import access_pairing

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AgreementForm(forms.ModelForm):
    class Meta:
        model = AgreementVersion
        fields = services.VERSION_FIELDS
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
            "roles": forms.Textarea(attrs={"rows": 3}),
            "boundaries": forms.Textarea(attrs={"rows": 3}),
            "confidentiality": forms.Textarea(attrs={"rows": 3}),
            "confidentiality_exceptions": forms.Textarea(attrs={"rows": 6}),
            "period_start": DATE,
            "period_end": DATE,
            "review_date": DATE,
        }
        help_texts = {
            "frequency": "For example: every two weeks.",
            "session_timing": "For example: Tuesday evenings, 6 pm UK time.",
            "confidentiality_exceptions": "Taken from the scheme's code of conduct. Change it only together.",
        }


class GoalForm(forms.Form):
    text = forms.CharField(label="New goal", max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class GoalStatusForm(forms.Form):
    status = forms.ChoiceField(choices=PairingGoal.Status.choices)


class ProgressForm(forms.Form):
    date = forms.DateField(widget=DATE)
    note = forms.CharField(label="Progress", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class SessionNoteForm(forms.Form):
    date = forms.DateField(label="Session date", widget=DATE)
    text = forms.CharField(label="Note", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class CPDEntryForm(forms.ModelForm):
    class Meta:
        model = CPDEntry
        fields = ["date", "activity", "hours", "reflection"]
        widgets = {"date": DATE, "reflection": forms.Textarea(attrs={"rows": 3})}


def _refusal(form: forms.Form, error: ValidationError | PermissionDenied) -> None:
    form.add_error(None, error if isinstance(error, ValidationError) else ValidationError(str(error)))


def _is_active(pairing: Pairing) -> bool:
    return pairing.status == Pairing.Status.ACTIVE


def _require_open(pairing: Pairing) -> None:
    if not _is_active(pairing):
        raise ValidationError(services.ENDED)


# The agreement.


@login_required
def agreement_detail(request, pk: int):
    """The agreement's state, its current version, earlier versions, and the draft form (R-PAIR-1)."""
    pairing = access_pairing(request.user, pk)
    form = AgreementForm(request.POST if request.method == "POST" else None, initial=services.version_defaults(pairing))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.agreement_draft(pairing=pairing, actor=request.user, fields=form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                _refusal(form, error)
            else:
                messages.success(request, "Your draft is saved. Your partner has been asked to confirm it.")
                return redirect("agreement_detail", pk=pairing.pk)
        status = 400
    state = services.agreement_state(pairing, request.user)
    context = {
        "pairing": pairing,
        "state": state,
        "form": form,
        "editable": _is_active(pairing),
        "versions": services.agreement_versions(pairing),
        "title": "Your mentoring agreement",
    }
    return render(request, "mentoring/agreement_detail.html", context, status=status)


@login_required
@require_POST
def agreement_confirm(request, pk: int):
    pairing = access_pairing(request.user, pk)
    try:
        number = int(request.POST.get("number", ""))
        services.agreement_confirm(pairing=pairing, actor=request.user, number=number)
    except ValueError:
        messages.error(request, "Choose the version to confirm.")
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, "You confirmed the agreement.")
        return redirect("agreement_detail", pk=pairing.pk)
    # The refusal is shown on the agreement page itself, with a 400.
    state = services.agreement_state(pairing, request.user)
    context = {
        "pairing": pairing,
        "state": state,
        "form": AgreementForm(initial=services.version_defaults(pairing)),
        "editable": _is_active(pairing),
        "versions": services.agreement_versions(pairing),
        "title": "Your mentoring agreement",
    }
    return render(request, "mentoring/agreement_detail.html", context, status=400)


@login_required
def agreement_version(request, pk: int, number: int):
    pairing = access_pairing(request.user, pk)
    version = services.agreement_version(pairing, number)
    if version is None:
        raise Http404("No such version")
    return render(
        request,
        "mentoring/agreement_version.html",
        {"pairing": pairing, "version": version, "title": f"Agreement, version {version.number}"},
    )


# Goals.


def _goals_page(request, pairing, *, goal_form=None, status=200, errors=()):
    return render(
        request,
        "mentoring/goals_list.html",
        {
            "pairing": pairing,
            "goals": services.goals_for_pairing(pairing),
            "goal_form": goal_form or GoalForm(),
            "statuses": PairingGoal.Status.choices,
            "today": timezone.localdate(),
            "editable": _is_active(pairing),
            "mentee_has_goals": services.mentee_goals_text(pairing) != "",
            "errors": errors,
            "title": "Goals and progress",
        },
        status=status,
    )


@login_required
def goals_list(request, pk: int):
    """The pairing's goals and their progress (R-PAIR-3); while it has none, a button brings in the mentee's."""
    pairing = access_pairing(request.user, pk)
    if request.method == "POST" and "seed" in request.POST:
        try:
            # A GET never writes, so the mentee's goals are brought in by a button when the pairing has none.
            _require_open(pairing)
            added = services.goals_seed(pairing)
        except ValidationError as error:
            return _goals_page(request, pairing, status=400, errors=error.messages)
        messages.success(request, f"{len(added)} goal{'s' if len(added) != 1 else ''} added from the mentee's goals.")
        return redirect("goals_list", pk=pairing.pk)
    if request.method == "POST":
        form = GoalForm(request.POST)
        if form.is_valid():
            try:
                services.goal_add(pairing=pairing, actor=request.user, text=form.cleaned_data["text"])
            except (ValidationError, PermissionDenied) as error:
                _refusal(form, error)
            else:
                messages.success(request, "Goal added.")
                return redirect("goals_list", pk=pairing.pk)
        return _goals_page(request, pairing, goal_form=form, status=400)
    return _goals_page(request, pairing)


def _goal(pairing, goal_pk: int) -> PairingGoal:
    return get_object_or_404(PairingGoal, pairing=pairing, pk=goal_pk)


def _goal_change(request, pk: int, goal_pk: int, form_class, change):
    pairing = access_pairing(request.user, pk)
    goal = _goal(pairing, goal_pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            change(pairing, goal, form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _refusal(form, error)
        else:
            return redirect("goals_list", pk=pairing.pk)
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    return _goals_page(request, pairing, status=400, errors=errors)


@login_required
@require_POST
def goal_status(request, pk: int, goal_pk: int):
    def change(pairing, goal, data):
        services.goal_update_status(pairing=pairing, actor=request.user, goal_id=goal.pk, status=data["status"])
        messages.success(request, "Goal status updated.")

    return _goal_change(request, pk, goal_pk, GoalStatusForm, change)


@login_required
@require_POST
def goal_progress(request, pk: int, goal_pk: int):
    def change(pairing, goal, data):
        services.goal_progress_add(
            pairing=pairing, actor=request.user, goal_id=goal.pk, date=data["date"], note=data["note"]
        )
        messages.success(request, "Progress recorded.")

    return _goal_change(request, pk, goal_pk, ProgressForm, change)


# Private session notes.


@login_required
def session_notes(request, pk: int):
    """The mentor's own notes of this pairing; to anyone else, the mentee included, there is no such page."""
    pairing = access_pairing(request.user, pk)
    if pairing.mentor_id != request.user.pk:
        raise Http404("No such page")
    form = SessionNoteForm(request.POST or None, initial={"date": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.session_note_save(pairing=pairing, actor=request.user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                _refusal(form, error)
            else:
                messages.success(request, "Your note is saved. Only you can read it.")
                return redirect("session_notes", pk=pairing.pk)
        status = 400
    context = {
        "pairing": pairing,
        "notes": services.session_notes(pairing, request.user),
        "form": form,
        "editable": _is_active(pairing),
        "title": "Your private session notes",
    }
    return render(request, "mentoring/notes_list.html", context, status=status)


# The CPD log.


@login_required
def cpd_log(request):
    """A mentor's CPD log: their own entries and the training the platform holds for them (004 B11)."""
    mentor = services.is_mentor(request.user)
    form = CPDEntryForm(request.POST or None, initial={"date": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cpd_entry_save(member=request.user, **form.cleaned_data)
            except (ValidationError, PermissionDenied) as error:
                _refusal(form, error)
            else:
                messages.success(request, "Added to your CPD log.")
                return redirect("cpd_log")
        status = 400 if mentor else 403
    context = {"lines": services.cpd_log(request.user), "form": form, "mentor": mentor, "title": "Your CPD log"}
    return render(request, "mentoring/cpd_log.html", context, status=status)


@login_required
def cpd_download(request):
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cpd-log.csv"'
    writer = csv.writer(response)
    writer.writerow(["Date", "Activity", "Hours", "Reflection or notes", "Recorded by"])
    for line in services.cpd_log(request.user):
        writer.writerow(
            [
                line.date.isoformat(),
                _spreadsheet_safe(line.activity),
                line.hours if line.hours is not None else "",
                _spreadsheet_safe(line.reflection),
                "the platform" if line.recorded_by_platform else "you",
            ]
        )
    return response


def _spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet would read as a formula is written as text (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
