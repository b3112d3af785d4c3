"""Staff import the membership system's CSV export (issue 11, item 3; R-ELIG-2): a preview shows each row's change
and each bad row's error before anything is saved; one bad row saves nothing; a member whose status changes is
re-checked by the eligibility engine at once; coordinators cannot import; bad uploads get clear messages."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import MembershipStatus, User
from matching import listing
from mentoring import services as mentoring_services
from messaging.models import Notification
from safeguarding.models import AuditEvent, EligibilityLapse
from tests import factories

IMPORT = reverse("admin:accounts_user_import")
CONFIRM = reverse("admin:accounts_user_process_import")
CHANGELIST = reverse("admin:accounts_user_changelist")


def upload(text: str, name: str = "members.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def preview(client, text: str, **kwargs):
    return client.post(IMPORT, {"import_file": upload(text, **kwargs), "format": "0", "resource": "0"})


def confirm(client, response):
    """Post the preview page's confirmation form, as the "Confirm import" button does."""
    form = response.context["confirm_form"]
    return client.post(CONFIRM, {name: form.initial.get(name, "") for name in form.fields})


def snapshot():
    return list(
        User.objects.order_by("pk").values_list(
            "membership_number", "membership_grade", "membership_status", "membership_expires_on"
        )
    )


@pytest.fixture
def members(documents, scheme, network):
    """A listed mentor and a mentee of London, both with a current membership."""
    mentor = factories.listed_mentor(scheme, network, capacity=2)
    User.objects.filter(pk=mentor.pk).update(membership_number="11110001")
    mentee = factories.eligible_mentee(scheme, network, first_name="Amara")
    User.objects.filter(pk=mentee.pk).update(membership_number="11110002", membership_grade="Associate")
    return User.objects.get(pk=mentor.pk), User.objects.get(pk=mentee.pk)


def test_the_preview_shows_each_rows_change_and_saves_nothing(client, scheme_staff, members):
    # Issue 11, item 3: "a preview shows each row's change ... before anything is saved"
    _mentor, mentee = members
    before = snapshot()
    client.force_login(scheme_staff)
    response = preview(
        client,
        "number,grade,status,expiry\n"
        "0011110001,Fellow,Active,2028-01-31\n"  # leading zeros are not part of the number
        f"11110002,Associate,Active,{mentee.membership_expires_on.isoformat()}\n",
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.valid_rows()] == ["update", "skip"]
    html = response.content.decode()
    assert "<del>Member</del> → <ins>Fellow</ins>" in html and "<ins>2028-01-31</ins>" in html
    assert "Confirm import" in html
    assert snapshot() == before  # a preview writes nothing


def test_confirming_saves_every_row_and_audits_it(client, scheme_staff, members):
    # Issue 11, item 3; R-ELIG-2
    mentor, _mentee = members
    client.force_login(scheme_staff)
    response = preview(client, "number,grade,status,expiry\n11110001,Fellow,active,31/01/2028\n")
    done = confirm(client, response)
    assert done.status_code == 302 and done["Location"] == CHANGELIST
    mentor.refresh_from_db()
    assert (mentor.membership_grade, mentor.membership_expires_on) == ("Fellow", datetime.date(2028, 1, 31))
    assert AuditEvent.objects.filter(action="membership.import", actor=scheme_staff).count() == 1
    # The preview's file was used once: a second confirmation saves nothing and says so (no 500).
    again = confirm(client, response)
    assert again.status_code == 302 and again["Location"] == IMPORT


def test_a_lapse_is_rechecked_at_once_unlists_the_mentor_and_tells_them_and_their_coordinator(
    client, scheme_staff, scheme, coordinator, members
):
    # Issue 11, item 3: "members whose status changes are re-checked by the eligibility engine at once" (R-ELIG-2)
    mentor, _ = members
    assert listing.listed_profiles(scheme).filter(user=mentor).exists()
    client.force_login(scheme_staff)
    confirm(client, preview(client, "number,grade,status,expiry\n11110001,Member,Lapsed,2026-01-31\n"))
    mentor.refresh_from_db()
    assert mentor.membership_status == MembershipStatus.LAPSED
    assert not listing.listed_profiles(scheme).filter(user=mentor).exists()
    assert EligibilityLapse.objects.filter(membership__user=mentor, code="membership", ended_on=None).count() == 1
    assert Notification.objects.filter(user=mentor, kind="eligibility_lapsed").count() == 1
    assert Notification.objects.filter(user=coordinator, kind="eligibility_lapsed_coordinator").count() == 1
    assert AuditEvent.objects.filter(action="membership.status", target_user=mentor).count() == 1
    # Renewed in the next export: listed again at once, and the lapse is closed.
    future = (datetime.date.today() + datetime.timedelta(days=300)).isoformat()
    confirm(client, preview(client, f"number,grade,status,expiry\n11110001,Member,Active,{future}\n"))
    assert listing.listed_profiles(scheme).filter(user=mentor).exists()
    assert not EligibilityLapse.objects.filter(membership__user=mentor, ended_on=None).exists()


def test_bad_rows_are_shown_with_their_errors_and_nothing_is_saved(client, scheme_staff, members):
    # Issue 11, item 3: "each bad row's error before anything is saved"; unknown numbers create nobody
    before, users = snapshot(), User.objects.count()
    client.force_login(scheme_staff)
    response = preview(
        client,
        "Number, Grade ,STATUS,expiry,notes\n"  # headers in any case and spacing; other columns are ignored
        "11110001,Fellow,Active,2028-01-31,fine\n"
        "99999999,Member,Active,2028-01-31,\n"
        "11110002,Member,Resigned,2028-01-31,\n"
        "11110002,Member,Active,31 Jan,\n"
        "12AB,Member,Active,2028-01-31,\n"
        '11110003,"Member\nand more",Active,,\n',
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert "confirm_form" not in response.context
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert "No member has membership number 99999999" in errors[2]["number"][0]
    assert "not a membership status we know" in errors[3]["status"][0]
    assert "Membership number 11110002 is on an earlier line" in errors[4]["number"][0]
    assert "is not a membership number" in errors[5]["number"][0]
    html = response.content.decode()
    assert "Resigned" in html and "write Active or Lapsed" in html
    assert "5 rows cannot be imported, so nothing will be saved" in html
    assert snapshot() == before and User.objects.count() == users


def test_a_bad_date_is_a_row_error(client, scheme_staff, members):
    client.force_login(scheme_staff)
    response = preview(client, "number,grade,status,expiry\n11110001,Member,Active,31 Jan 2028\n")
    (row,) = response.context["result"].invalid_rows
    assert "is not a date" in row.error_dict["expiry"][0]


def test_a_wrong_header_is_a_clear_message(client, scheme_staff, members):
    # Issue 11, bad input: "a CSV with a wrong header"
    client.force_login(scheme_staff)
    response = preview(client, "membership no,grade,state,expires\n11110001,Fellow,Active,2028-01-31\n")
    assert response.status_code == 200
    assert "result" not in response.context
    message = response.context["form"].errors["import_file"][0]
    assert "must name the columns number, grade, status and expiry; number, status, expiry are missing" in message
    assert "membership no, grade, state, expires" in message
    alert = r'class="errornote" role="alert">\s*Membership export \(CSV\): The first line'
    assert re.search(alert, response.content.decode())


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "The submitted file is empty"),
        ("number;grade\n".encode("utf-16"), "not a CSV file in UTF-8"),
        (b"\n\n", "first line must name the columns"),
    ],
)
def test_empty_or_unreadable_files_are_clear_messages(client, scheme_staff, members, content, words):
    client.force_login(scheme_staff)
    response = client.post(
        IMPORT, {"import_file": SimpleUploadedFile("m.csv", content), "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors["import_file"])


def test_a_50_mb_upload_is_refused_with_a_message_not_a_500(client, scheme_staff, members, settings):
    # Issue 11, bad input: "a 50 MB upload: clear messages, nothing half-written"
    before = snapshot()
    client.force_login(scheme_staff)
    line = b"11110001,Fellow,Active,2028-01-31\n"
    big = b"number,grade,status,expiry\n" + line * (50 * 1024 * 1024 // len(line))
    response = client.post(IMPORT, {"import_file": SimpleUploadedFile("big.csv", big), "format": "0"})
    assert response.status_code == 200
    (message,) = response.context["form"].errors["import_file"]
    assert "50.0\xa0MB" in message and "at most 5.0\xa0MB" in message
    assert snapshot() == before


def test_rows_that_stop_importing_between_preview_and_confirmation_save_nothing(client, scheme_staff, members):
    # Nothing half-written: the confirmation re-runs every row in one transaction; one failure rolls all back.
    _mentor, mentee = members
    client.force_login(scheme_staff)
    response = preview(
        client, "number,grade,status,expiry\n11110001,Fellow,Active,2028-01-31\n11110002,Fellow,Active,2028-01-31\n"
    )
    User.objects.filter(pk=mentee.pk).update(membership_number="11110009")  # changed meanwhile
    before = snapshot()
    done = confirm(client, response)
    assert done.status_code == 302 and done["Location"] == IMPORT
    assert snapshot() == before


def test_a_tampered_confirmation_is_a_message_not_a_500(client, scheme_staff, members):
    client.force_login(scheme_staff)
    for data in (
        {"import_file_name": "../../etc/passwd", "original_file_name": "x.csv", "format": "0"},
        {"import_file_name": "nothing-here", "original_file_name": "x.csv", "format": "7"},
        {"import_file_name": "nothing-here", "original_file_name": "x.csv", "format": "abc"},
    ):
        response = client.post(CONFIRM, data)
        assert response.status_code in (200, 302), data


def test_only_scheme_staff_import(client, coordinator, safeguarding_lead, mentee, scheme_staff, members):
    # Issue 11, item 3: staff upload; coordinators record one member at a time but never import
    before = snapshot()
    text = "number,grade,status,expiry\n11110001,Fellow,Lapsed,2028-01-31\n"
    for person in (coordinator, safeguarding_lead):
        client.force_login(person)
        assert client.get(IMPORT).status_code == 403
        assert preview(client, text).status_code == 403
        forged = {"import_file_name": "x", "original_file_name": "x", "format": "0"}
        assert client.post(CONFIRM, forged).status_code == 403
        assert "/admin/accounts/user/import/" not in client.get(CHANGELIST).content.decode()
    client.force_login(mentee)
    assert client.get(IMPORT).status_code == 302  # to the sign-in page
    assert snapshot() == before
    client.force_login(scheme_staff)
    assert client.get(IMPORT).status_code == 200
    assert "/admin/accounts/user/import/" in client.get(CHANGELIST).content.decode()


def test_the_preview_reads_members_with_one_query_however_many_rows(client, scheme_staff, documents, scheme, network):
    # Issue 11, item 6: the file's members are read in one query; each row costs only its savepoint, which keeps a
    # bad row's error from spoiling the others.
    people = [factories.UserFactory() for _ in range(30)]
    client.force_login(scheme_staff)

    def queries_for(rows: int) -> int:
        lines = "".join(
            f"{p.membership_number},{p.membership_grade},Active,{p.membership_expires_on.isoformat()}\n"
            for p in people[:rows]
        )
        with CaptureQueriesContext(connection) as captured:
            response = preview(client, "number,grade,status,expiry\n" + lines)
        assert [row.import_type for row in response.context["result"].valid_rows()] == ["skip"] * rows
        return sum(1 for q in captured.captured_queries if "SAVEPOINT" not in q["sql"])

    assert queries_for(3) == queries_for(30)


def test_a_pairing_goes_on_when_the_mentors_membership_lapses(client, scheme_staff, scheme, network, members):
    # R-ELIG-2: a lapse suspends participation in new pairings; running pairings continue (safeguarding/sweep.py)
    mentor, mentee = members
    pairing = mentoring_services.pairing_start(mentor=mentor, mentee=mentee, scheme=scheme, origin="manual")
    client.force_login(scheme_staff)
    confirm(client, preview(client, "number,grade,status,expiry\n11110001,Member,Lapsed,2026-01-31\n"))
    pairing.refresh_from_db()
    assert pairing.status == "active"


def test_a_lapse_recorded_on_the_members_page_is_rechecked_at_once_too(client, coordinator, scheme, members):
    # Issue 11, item 3 and R-ELIG-2: the one-member path re-checks the same way as the import
    mentor, _ = members
    client.force_login(coordinator)
    membership = mentor.memberships.get()
    response = client.post(
        reverse("admin:accounts_user_change", args=[mentor.pk]),
        {
            "membership_number": mentor.membership_number,
            "membership_grade": "Member",
            "membership_status": "lapsed",
            "membership_expires_on": "2026-01-31",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "1",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
            "memberships-0-id": membership.pk,
            "memberships-0-user": mentor.pk,
        },
    )
    assert response.status_code == 302
    assert not listing.listed_profiles(scheme).filter(user=mentor).exists()
    assert Notification.objects.filter(user=mentor, kind="eligibility_lapsed").count() == 1
    assert Notification.objects.filter(user=coordinator, kind="eligibility_lapsed_coordinator").count() == 1
