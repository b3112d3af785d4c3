"""DBS checks in the admin: staff and the Safeguarding Lead request and move them on, staff withdraw a refused mentor in
one click, coordinators never see any of it (R-SAFE-3, R-ELIG-4)."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import local_today
from matching import services as matching_services
from mentoring.models import Pairing, Role, SchemeMembership
from messaging.models import Notification
from safeguarding import dbs
from safeguarding.models import DBSCheck
from tests import factories

Status = DBSCheck.Status
CERTIFICATE = "004455667788"
REASON_MARKER = "Enhanced: the role supervises under-18 apprentices"


@pytest.fixture
def dbs_mentor(documents, dbs_scheme, network):
    user = factories.UserFactory(first_name="Priya", last_name="Patel")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(user=user, scheme=dbs_scheme, network=network, role=Role.MENTOR)
    factories.MentorProfileFactory(user=user)
    return user


def add_url():
    return reverse("admin:safeguarding_dbscheck_add")


def change_url(check):
    return reverse("admin:safeguarding_dbscheck_change", args=[check.pk])


def change_data(check, **values):
    return {
        "status": check.status,
        "certificate_number": check.certificate_number,
        "cleared_on": check.cleared_on.isoformat() if check.cleared_on else "",
        **values,
    }


def test_staff_request_a_check_in_the_admin(client, scheme_staff, dbs_mentor):
    # R-SAFE-3
    client.force_login(scheme_staff)
    today = local_today(scheme_staff.time_zone).isoformat()
    response = client.post(
        add_url(), {"user": dbs_mentor.pk, "level": "enhanced", "level_reason": REASON_MARKER, "requested_on": today}
    )
    assert response.status_code == 302
    check = DBSCheck.objects.get(user=dbs_mentor)
    assert (check.status, check.level, check.level_reason, check.recorded_by) == (
        Status.REQUESTED,
        "enhanced",
        REASON_MARKER,
        scheme_staff,
    )
    assert Notification.objects.filter(user=dbs_mentor, kind="dbs_requested").exists()


def test_a_request_without_its_reason_shows_the_form_again_and_writes_nothing(client, scheme_staff, dbs_mentor):
    client.force_login(scheme_staff)
    today = local_today(scheme_staff.time_zone).isoformat()
    response = client.post(
        add_url(), {"user": dbs_mentor.pk, "level": "basic", "level_reason": "   ", "requested_on": today}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not DBSCheck.objects.exists()


def test_a_certificate_dated_tomorrow_is_refused_on_the_page(client, scheme_staff, dbs_mentor):
    # Issue 9, bad input: a DBS certificate date in the future; nothing written
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.SUBMITTED, cleared_on=None)
    client.force_login(scheme_staff)
    tomorrow = local_today(scheme_staff.time_zone) + datetime.timedelta(days=1)
    response = client.post(
        change_url(check),
        change_data(check, status="cleared", certificate_number=CERTIFICATE, cleared_on=tomorrow.isoformat()),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The certificate date cannot be in the future: enter the date printed on it." in page
    check.refresh_from_db()
    assert (check.status, check.cleared_on, check.certificate_number) == (Status.SUBMITTED, None, "")


def test_staff_clear_a_check_with_its_certificate_and_see_its_expiry(client, scheme_staff, dbs_mentor):
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.SUBMITTED, cleared_on=None)
    client.force_login(scheme_staff)
    issued = datetime.date(2026, 1, 15)
    response = client.post(
        change_url(check),
        change_data(check, status="cleared", certificate_number=CERTIFICATE, cleared_on=issued.isoformat()),
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert (check.status, check.cleared_on, check.certificate_number) == (Status.CLEARED, issued, CERTIFICATE)
    assert "15 January 2029" in client.get(change_url(check)).content.decode()  # three years on


def test_the_form_offers_only_the_next_states(client, scheme_staff, dbs_mentor):
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.REQUESTED, cleared_on=None)
    client.force_login(scheme_staff)
    form = client.get(change_url(check)).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == ["requested", "submitted", "refused"]
    response = client.post(change_url(check), change_data(check, status="cleared"))
    assert response.status_code == 200 and DBSCheck.objects.get(pk=check.pk).status == Status.REQUESTED


def test_a_refused_check_is_flagged_and_one_click_withdraws_the_mentor(client, scheme_staff, dbs_mentor, mentee):
    # R-ELIG-4: refusal flags removal; the one-click withdrawal ends the mentor's pairings and tells the partner
    membership = SchemeMembership.objects.get(user=dbs_mentor)
    pairing = Pairing.objects.create(
        scheme=membership.scheme, mentor=dbs_mentor, mentee=mentee, network=membership.network
    )
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.SUBMITTED, cleared_on=None)
    client.force_login(scheme_staff)
    response = client.post(change_url(check), change_data(check, status="refused"), follow=True)
    assert "flagged for removal" in response.content.decode()
    flagged = client.get(reverse("admin:safeguarding_dbscheck_changelist"), {"flagged": "yes"})
    assert [c.pk for c in flagged.context["cl"].result_list] == [check.pk]
    page = client.get(change_url(check)).content.decode()
    assert "Withdraw this mentor" in page
    response = client.post(
        reverse("admin:safeguarding_dbscheck_changelist"),
        {"action": "withdraw_mentor", "index": "0", "_selected_action": [check.pk]},
        follow=True,
    )
    assert "is withdrawn as a mentor" in response.content.decode()
    membership.refresh_from_db()
    pairing.refresh_from_db()
    assert membership.status == SchemeMembership.Status.WITHDRAWN
    assert pairing.status == Pairing.Status.ENDED
    assert (
        not client.get(reverse("admin:safeguarding_dbscheck_changelist"), {"flagged": "yes"}).context["cl"].result_list
    )
    assert "Withdraw this mentor" not in client.get(change_url(check)).content.decode()


def test_the_safeguarding_lead_records_checks_but_is_not_offered_the_withdrawal(client, safeguarding_lead, dbs_mentor):
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.REFUSED, cleared_on=None)
    client.force_login(safeguarding_lead)
    page = client.get(change_url(check))
    assert page.status_code == 200
    assert "Withdraw this mentor" not in page.content.decode()
    response = client.post(
        reverse("admin:safeguarding_dbscheck_changelist"),
        {"action": "withdraw_mentor", "index": "0", "_selected_action": [check.pk]},
    )
    assert response.status_code in (200, 302, 403)
    assert SchemeMembership.objects.get(user=dbs_mentor).status == SchemeMembership.Status.ACTIVE


def test_coordinators_get_403_for_every_dbs_page_and_cannot_post(client, coordinator, dbs_mentor):
    # R-SAFE-3: never coordinators, even of the mentor's own network
    check = factories.DBSCheckFactory(user=dbs_mentor, status=Status.REFUSED, cleared_on=None)
    client.force_login(coordinator)
    for url in (reverse("admin:safeguarding_dbscheck_changelist"), add_url(), change_url(check)):
        assert client.get(url).status_code == 403, url
    assert client.post(change_url(check), change_data(check, status="refused")).status_code == 403
    response = client.post(
        reverse("admin:safeguarding_dbscheck_changelist"),
        {"action": "withdraw_mentor", "index": "0", "_selected_action": [check.pk]},
    )
    assert response.status_code == 403
    assert "DBS" not in client.get(reverse("admin:index")).content.decode()
    assert SchemeMembership.objects.get(user=dbs_mentor).status == SchemeMembership.Status.ACTIVE


def test_a_coordinator_pairing_by_hand_never_reads_the_mentors_dbs_reason(
    dbs_mentor, dbs_scheme, network, coordinator, scheme_staff
):
    # R-SAFE-3: the refusal stays with staff; the coordinator reads that a check is not complete
    factories.DBSCheckFactory(user=dbs_mentor, status=Status.REFUSED, cleared_on=None)
    mentee = factories.eligible_mentee(dbs_scheme, network)
    with pytest.raises(matching_services.ProposalRefused) as refused:
        matching_services.proposal_create(mentor=dbs_mentor, mentee=mentee, scheme=dbs_scheme, actor=coordinator)
    assert "DBS" not in refused.value.message and "refused" not in refused.value.message
    assert "A check that scheme staff handle is not complete." in refused.value.message
    with pytest.raises(matching_services.ProposalRefused) as told_to_staff:
        matching_services.proposal_create(mentor=dbs_mentor, mentee=mentee, scheme=dbs_scheme, actor=scheme_staff)
    assert "DBS check was refused" in told_to_staff.value.message


def test_a_coordinator_approving_a_profile_never_reads_the_mentors_dbs_reason(dbs_mentor, coordinator):
    factories.DBSCheckFactory(user=dbs_mentor, status=Status.REFUSED, cleared_on=None)
    profile = dbs_mentor.mentor_profile
    profile.status = "submitted"
    profile.save()
    with pytest.raises(ValidationError) as refused:
        matching_services.mentor_profile_review(profile_id=profile.pk, approve=True, note="", actor=coordinator)
    text = " ".join(refused.value.messages)
    assert "cannot be listed yet" in text and "DBS" not in text


def test_the_mentor_is_emailed_when_asked_for_a_check(dbs_mentor, scheme_staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        dbs.dbs_check_request(user=dbs_mentor, level="basic", level_reason="Basic.", actor=scheme_staff)
    assert [m.to for m in mail.outbox] == [[dbs_mentor.email]]
    assert "DBS" in mail.outbox[0].subject
