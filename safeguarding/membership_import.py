"""Staff import the membership system's CSV export: number, grade, status, expiry (issue 11, item 3; R-ELIG-2).

django-import-export reads the file and previews every row in a transaction it rolls back: each row's change
(before and after) or each bad row's errors, nothing saved. On confirmation the same rows are applied in one
transaction, all or nothing. Rows are matched by membership number; a number no member holds is an error in the
preview, never a new account (members register themselves, with their own consent).

Each changed row is written through membership_check_record (the one writer of membership checks: it checks the
actor, audits a change of status and activates memberships that become eligible), and a member whose status
changed is re-checked by the eligibility engine at once: a lapse is told to them and their coordinators as the
daily sweep would tell it, a renewal closes the lapse. The listing follows through its save signals.
"""

from __future__ import annotations

import csv
import datetime
import io

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from import_export import fields, resources, widgets
from import_export.forms import ImportForm

from accounts.models import MembershipStatus, User, normalise_membership_number, validate_membership_number
from mentoring import permissions
from safeguarding import sweep
from safeguarding.audit import audit
from safeguarding.services import membership_check_record

# The columns of the membership system's export, and the member's field each one fills.
COLUMNS = {
    "number": "membership_number",
    "grade": "membership_grade",
    "status": "membership_status",
    "expiry": "membership_expires_on",
}
COLUMN_OF = {attribute: column for column, attribute in COLUMNS.items()}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
GRADE_MAX = User._meta.get_field("membership_grade").max_length
# The membership system says Active or Lapsed; "Not yet checked" is ours alone and never comes from it.
STATUS_WORDS = {
    "active": MembershipStatus.ACTIVE,
    "current": MembershipStatus.ACTIVE,
    "lapsed": MembershipStatus.LAPSED,
}


def header_key(name) -> str:
    return str(name or "").strip().lower()


class NumberWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        number = normalise_membership_number(str(value or ""))
        if not number:
            raise ValueError("The membership number is missing.")
        try:
            validate_membership_number(number)
        except ValidationError:
            raise ValueError(f"“{value}” is not a membership number: 6 to 10 digits, no letters or spaces.") from None
        return number

    def render(self, value, obj=None, **kwargs):
        return value or ""


class GradeWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        grade = str(value or "").strip()
        if not grade:
            raise ValueError("The grade is missing (for example Member, Associate, Fellow).")
        if any(ch in grade for ch in "\r\n\t") or len(grade) > GRADE_MAX:
            raise ValueError(f"The grade must be one line of at most {GRADE_MAX} characters.")
        return grade

    def render(self, value, obj=None, **kwargs):
        return value or ""


class StatusWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        status = STATUS_WORDS.get(str(value or "").strip().lower())
        if status is None:
            raise ValueError(f"“{value}” is not a membership status we know: write Active or Lapsed.")
        return status

    def render(self, value, obj=None, **kwargs):
        return MembershipStatus(value).label if value in MembershipStatus.values else (value or "")


class ExpiryWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        text = str(value or "").strip()
        if not text:
            return None
        for date_format in DATE_FORMATS:
            try:
                return datetime.datetime.strptime(text, date_format).date()
            except ValueError:
                continue
        raise ValueError(f"“{value}” is not a date: write it as 2027-03-31 or 31/03/2027.")

    def render(self, value, obj=None, **kwargs):
        return value.isoformat() if value else ""


class ValueDiff(resources.Diff):
    """Each column of the preview: the value, or the value before struck through and the value after."""

    def as_html(self):
        return [
            format_html("{}", after) if before == after else format_html("<del>{}</del> → <ins>{}</ins>", before, after)
            for before, after in zip(self.left, self.right, strict=True)
        ]


class MembershipResource(resources.ModelResource):
    """One row per member of the membership system's export, matched by membership number."""

    number = fields.Field(attribute="membership_number", column_name="number", widget=NumberWidget())
    grade = fields.Field(attribute="membership_grade", column_name="grade", widget=GradeWidget())
    status = fields.Field(attribute="membership_status", column_name="status", widget=StatusWidget())
    expiry = fields.Field(
        attribute="membership_expires_on", column_name="expiry", widget=ExpiryWidget(), saves_null_values=True
    )

    class Meta:
        model = User
        fields = ("number", "grade", "status", "expiry")
        import_id_fields = ("number",)
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False  # the service validates the member in full before it saves

    def get_diff_class(self):
        return ValueDiff

    @classmethod
    def get_display_name(cls):
        return "Membership records"

    def before_import(self, dataset, **kwargs):
        permissions.require(
            permissions.is_scheme_staff(kwargs.get("user")), "Only scheme staff import membership records."
        )
        dataset.headers = [header_key(h) for h in dataset.headers or ()]
        numbers = set()
        if "number" in dataset.headers:
            for value in dataset["number"]:
                try:
                    numbers.add(self.fields["number"].widget.clean(value))
                except ValueError:
                    continue
        # One query finds every member the file names (rows are then matched without a query each).
        self._members = {u.membership_number: u for u in User.objects.filter(membership_number__in=numbers)}
        self._seen_numbers: set[str] = set()
        self._status_changed: list[int] = []

    def get_or_init_instance(self, instance_loader, row):
        try:
            number = self.fields["number"].clean(row)
        except ValueError as error:
            raise ValidationError({"number": [str(error)]}) from None
        if number in self._seen_numbers:
            raise ValidationError({"number": [f"Membership number {number} is on an earlier line of the file too."]})
        self._seen_numbers.add(number)
        member = self._members.get(number)
        if member is None:
            raise ValidationError(
                {"number": [f"No member has membership number {number}: nothing is created by an import."]}
            )
        member._imported_from = {name: getattr(member, name) for name in COLUMNS.values()}
        return member, False

    def import_instance(self, instance, row, **kwargs):
        # Errors are named by the file's column ("status"), not our field ("membership_status").
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            raise ValidationError(
                {COLUMN_OF.get(name, name): messages for name, messages in error.message_dict.items()}
            ) from None

    def save_instance(self, instance, is_create, row, **kwargs):
        changes = {
            name: getattr(instance, name)
            for name, before in instance._imported_from.items()
            if getattr(instance, name) != before
        }
        if not changes:
            return
        try:
            member = membership_check_record(member_id=instance.pk, actor=kwargs["user"], changes=changes)
        except ValidationError as error:
            raise ValidationError(
                {COLUMN_OF.get(name, name): messages for name, messages in error.message_dict.items()}
            ) from None
        if "membership_status" in changes:
            self._status_changed.append(member.pk)
            sweep.member_recheck(member=member)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or not result.total_rows or result.has_errors() or result.has_validation_errors():
            return
        audit(
            actor=kwargs["user"],
            action="membership.import",
            file_name=str(kwargs.get("file_name") or "")[:200],
            rows=result.total_rows,
            updated=result.totals.get("update", 0),
            unchanged=result.totals.get("skip", 0),
            status_changed=len(self._status_changed),
        )


class MembershipImportForm(ImportForm):
    """The upload, checked before anything is read into the import: its size, its encoding and its first line."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["import_file"]
        field.label = "Membership export (CSV)"
        field.help_text = (
            f"The membership system's CSV export, at most {filesizeformat(settings.MEMBERSHIP_IMPORT_MAX_BYTES)}. "
            "Its first line names the columns number, grade, status and expiry; status is Active or Lapsed; "
            "expiry is a date such as 2027-03-31 or 31/03/2027."
        )
        field.widget.attrs["accept"] = ".csv,text/csv"

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.MEMBERSHIP_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {filesizeformat(upload.size)}; an import takes at most {filesizeformat(limit)}. "
                "Export only the members who take part in the scheme, or split the file."
            )
        upload.seek(0)
        raw = upload.read()
        upload.seek(0)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                "This file is not a CSV file in UTF-8 text. Save it from the membership system or your spreadsheet "
                "as “CSV UTF-8” and upload it again."
            ) from None
        first_line = next(csv.reader(io.StringIO(text)), None)
        if not first_line:
            raise forms.ValidationError("This file is empty: its first line must name the columns.")
        found = [header_key(h) for h in first_line]
        missing = [column for column in COLUMNS if column not in found]
        if missing:
            shown = ", ".join(h.strip() for h in first_line if h.strip())[:200] or "nothing"
            raise forms.ValidationError(
                f"The first line of the file must name the columns number, grade, status and expiry; "
                f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing. "
                f"This file's first line has: {shown}."
            )
        return upload
