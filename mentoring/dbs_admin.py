"""DBS checks in the admin (R-SAFE-3, R-ELIG-4): staff and the Safeguarding Lead request a check and record its
progress; staff withdraw a mentor whose check was refused in one click.

A safeguarding model administered here, in mentoring, because the withdrawal action calls
mentoring.ending (which ends pairings through matching): safeguarding may import neither
(import-linter). mentoring/admin.py imports this module so the admin registers it.

Criminal-offence data: coordinators get 403 for every page of it and never see the model listed.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils.formats import date_format

from mentoring import ending, permissions
from mentoring.admin_scoping import SAFEGUARDING_LEAD, STAFF, RoleScopedAdmin
from mentoring.models import Role, SchemeMembership
from safeguarding import dbs
from safeguarding.admin import add_errors
from safeguarding.models import DBSCheck

Status = DBSCheck.Status


def still_a_mentor():
    """SQL: the check's member still mentors somewhere (a membership as mentor not withdrawn)."""
    return Exists(
        SchemeMembership.objects.filter(user=OuterRef("user"), role=Role.MENTOR).exclude(
            status=SchemeMembership.Status.WITHDRAWN
        )
    )


class FlaggedForRemovalFilter(admin.SimpleListFilter):
    title = "flagged for removal"
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", "Refused and still a mentor")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=Status.REFUSED, still_mentor=True)
        return queryset


class DBSRequestForm(forms.ModelForm):
    """Request a check: the mentor, the level and why the role is eligible for it."""

    actor = None  # set by the admin for each request

    class Meta:
        model = DBSCheck
        fields = ("user", "level", "level_reason", "requested_on")

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                dbs.request_problems(
                    user=cleaned.get("user"),
                    level=cleaned.get("level", ""),
                    level_reason=cleaned.get("level_reason", ""),
                    requested_on=cleaned["requested_on"],
                    today=dbs.today_for(self.actor),
                )
            except ValidationError as problems:
                add_errors(self, problems)
        return cleaned


class DBSProgressForm(forms.ModelForm):
    """Record the next step of a check: its new state and, to clear it, the certificate."""

    actor = None

    class Meta:
        model = DBSCheck
        fields = ("status", "certificate_number", "cleared_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            current = Status(self.instance.status)
            self.fields["status"].choices = [(s, Status(s).label) for s in (current, *DBSCheck.NEXT[current])]
            self.fields["status"].help_text = "Requested, then submitted, then cleared (or refused); expired last."

    def clean(self):
        cleaned = super().clean()
        if self.errors or self.instance.pk is None:
            return cleaned
        stored = DBSCheck.objects.get(pk=self.instance.pk)
        status = cleaned.get("status", stored.status)
        number = cleaned.get("certificate_number", stored.certificate_number)
        issued_on = cleaned.get("cleared_on", stored.cleared_on)
        today = dbs.today_for(self.actor)
        try:
            if status != stored.status:
                dbs.transition_problems(stored, status, certificate_number=number, issued_on=issued_on, today=today)
            elif (number, issued_on) != (stored.certificate_number, stored.cleared_on):
                if stored.status != Status.CLEARED:
                    raise ValidationError({"status": "Choose “Cleared” to record the certificate."})
                dbs.certificate_problems(stored, certificate_number=number, issued_on=issued_on, today=today)
        except ValidationError as problems:
            add_errors(self, problems)
        return cleaned


@admin.register(DBSCheck)
class DBSCheckAdmin(RoleScopedAdmin):
    # Criminal-offence data: never coordinators (R-SAFE-3).
    change_roles = (STAFF, SAFEGUARDING_LEAD)
    scheme_wide = True
    list_display = ("user", "level", "status", "requested_on", "cleared_on", "flagged_for_removal")
    list_filter = (FlaggedForRemovalFilter, "status", "level")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__last_name")
    actions = ["withdraw_mentor"]

    ADD_FIELDS = ("user", "level", "level_reason", "requested_on")
    CHANGE_FIELDS = (
        "user",
        "level",
        "level_reason",
        "requested_on",
        "submitted_on",
        "status",
        "certificate_number",
        "cleared_on",
        "expires",
        "status_changed_at",
        "recorded_by",
        "flagged_for_removal",
    )
    EDITABLE = ("status", "certificate_number", "cleared_on")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(still_mentor=still_a_mentor())

    def member_choices(self, request):
        # Checks are requested for mentors.
        mentors = SchemeMembership.objects.filter(user=OuterRef("pk"), role=Role.MENTOR).exclude(
            status=SchemeMembership.Status.WITHDRAWN
        )
        return get_user_model().objects.filter(Exists(mentors))

    def get_fields(self, request, obj=None):
        return self.ADD_FIELDS if obj is None else self.CHANGE_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        editable = self.EDITABLE if DBSCheck.NEXT[Status(obj.status)] else ()
        return tuple(f for f in self.CHANGE_FIELDS if f not in editable)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = DBSProgressForm if obj is not None else DBSRequestForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    @admin.display(description="current until")
    def expires(self, obj):
        expiry = dbs.expiry_of(obj) if obj.status in (Status.CLEARED, Status.EXPIRED) else None
        if expiry is None:
            return "–"
        if expiry.first == expiry.last:
            return date_format(expiry.first, "j F Y")
        return f"{date_format(expiry.first, 'j F Y')} (strictest scheme); {date_format(expiry.last, 'j F Y')} (laxest)"

    @admin.display(description="flagged for removal", boolean=True)
    def flagged_for_removal(self, obj):
        return obj.status == Status.REFUSED and getattr(obj, "still_mentor", False)

    def save_model(self, request, obj, form, change):
        if not change:
            check = dbs.dbs_check_request(
                user=obj.user,
                level=obj.level,
                level_reason=obj.level_reason,
                actor=request.user,
                requested_on=obj.requested_on,
            )
            obj.pk, obj._state.adding = check.pk, False
            return
        stored = DBSCheck.objects.get(pk=obj.pk)
        if obj.status != stored.status:
            dbs.dbs_check_transition(
                check_id=obj.pk,
                status=obj.status,
                actor=request.user,
                certificate_number=obj.certificate_number,
                issued_on=obj.cleared_on,
            )
            if obj.status == Status.REFUSED:
                self.message_user(
                    request,
                    "The mentor is flagged for removal: “Withdraw this mentor” withdraws them from every scheme.",
                    messages.WARNING,
                )
        elif (obj.certificate_number, obj.cleared_on) != (stored.certificate_number, stored.cleared_on):
            dbs.dbs_check_correct(
                check_id=obj.pk, actor=request.user, certificate_number=obj.certificate_number, issued_on=obj.cleared_on
            )

    def has_withdraw_permission(self, request):
        return permissions.is_scheme_staff(request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_withdraw_mentor": self.has_withdraw_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(
        description="Withdraw the mentors of the selected refused checks from every scheme", permissions=["withdraw"]
    )
    def withdraw_mentor(self, request, queryset):
        for check in queryset.select_related("user"):
            name = check.user.get_full_name()
            try:
                withdrawn = ending.refused_mentor_withdraw(check_id=check.pk, actor=request.user)
            except ValidationError as refused:
                self.message_user(request, f"{name}: {' '.join(refused.messages)}", messages.ERROR)
            else:
                schemes = ", ".join(str(m.scheme) for m in withdrawn)
                self.message_user(request, f"{name} is withdrawn as a mentor from {schemes}.", messages.SUCCESS)
