"""Complaints (R-SAFE-4): a member raises one about a person, a pairing or the service; coordinators of
their networks and staff move it received -> investigating -> resolved or dismissed; the member sees it."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from mentoring.models import Pairing
from messaging.models import Notification
from safeguarding import complaints
from safeguarding.models import AuditEvent, Complaint
from tests import factories


@pytest.fixture
def pairing(scheme, network, mentee, mentor):
    return Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)


def make(complainant, **fields) -> Complaint:
    fields.setdefault("about", Complaint.About.SERVICE)
    fields.setdefault("text", "Nobody answered my emails for a month.")
    return complaints.complaint_make(complainant=complainant, **fields)


# R-SAFE-4: a member raises a complaint through the form.
def test_a_member_raises_a_complaint_about_their_pairing(client, mentee, pairing):
    client.force_login(mentee)
    response = client.post(
        reverse("complaint_new"),
        {"at_risk": "no", "about": "pairing", "pairing": pairing.pk, "text": "My mentor keeps cancelling."},
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == reverse("complaint_detail", args=[complaint.pk])
    assert (complaint.complainant, complaint.pairing, complaint.status) == (mentee, pairing, "received")
    assert Notification.objects.filter(user=mentee, kind="complaint_received").exists()
    assert AuditEvent.objects.filter(action="complaint.received", actor=mentee).exists()


def test_the_coordinators_of_the_complainants_network_are_told(mentee, coordinator, scheme_staff):
    make(mentee)
    assert Notification.objects.filter(user=coordinator, kind="complaint_made").count() == 1
    assert not Notification.objects.filter(user=scheme_staff, kind="complaint_made").exists()


def test_a_complaint_about_the_coordinator_goes_to_staff_instead(mentee, mentor, coordinator, scheme_staff, pairing):
    complaint = Complaint.objects.create(complainant=mentee, about=Complaint.About.PERSON, person=coordinator, text="x")
    assert complaints.complaint_handlers(complaint) == [scheme_staff]


def test_a_complaint_about_a_person_names_someone_the_member_knows(mentee, mentor, pairing):
    complaint = make(mentee, about=Complaint.About.PERSON, person=mentor)
    assert complaint.person == mentor


def test_a_complaint_about_a_stranger_or_someone_elses_pairing_is_refused(mentee, scheme, network):
    stranger = factories.UserFactory()
    others = Pairing.objects.create(
        scheme=scheme, mentor=factories.UserFactory(), mentee=factories.UserFactory(), network=network
    )
    with pytest.raises(ValidationError):
        make(mentee, about=Complaint.About.PERSON, person=stranger)
    with pytest.raises(ValidationError):
        make(mentee, about=Complaint.About.PAIRING, pairing=others)
    assert not Complaint.objects.exists()


def test_an_empty_complaint_is_refused_with_a_clear_message_and_nothing_stored(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("complaint_new"), {"at_risk": "no", "about": "service", "text": "  "})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode() or "Tell us what happened" in response.content.decode()
    assert not Complaint.objects.exists()


def test_someone_at_risk_is_sent_to_the_safeguarding_lead_and_no_complaint_is_stored(client, mentee):
    client.force_login(mentee)
    response = client.post(reverse("complaint_new"), {"at_risk": "yes", "about": "service", "text": "He hit me."})
    assert response.status_code == 302 and response.url == reverse("concern_new")
    assert not Complaint.objects.exists()
    page = client.get(response.url).content.decode()
    assert "Safeguarding Lead" in page and "999" in page


def test_the_complainant_sees_the_status_and_outcome(client, mentee, coordinator):
    complaint = make(mentee)
    complaints.complaint_status_set(
        complaint_id=complaint.pk, status="resolved", outcome="We apologised and fixed it.", actor=coordinator
    )
    client.force_login(mentee)
    page = client.get(reverse("complaint_detail", args=[complaint.pk])).content.decode()
    assert "Resolved" in page and "We apologised and fixed it." in page
    assert "Resolved" in page and str(complaint.pk) in client.get(reverse("complaint_list")).content.decode()


def test_another_members_complaint_is_not_found(client, mentee, mentor):
    complaint = make(mentee)
    client.force_login(mentor)
    assert client.get(reverse("complaint_detail", args=[complaint.pk])).status_code == 404


# R-SAFE-4: received -> investigating -> resolved | dismissed, with an outcome, the complainant told.
def test_a_coordinator_moves_a_complaint_through_its_states_and_the_member_is_told(mentee, coordinator):
    complaint = make(mentee)
    complaints.complaint_status_set(complaint_id=complaint.pk, status="investigating", outcome="", actor=coordinator)
    complaints.complaint_status_set(
        complaint_id=complaint.pk, status="dismissed", outcome="The emails were answered.", actor=coordinator
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.handled_by) == ("dismissed", coordinator)
    assert Notification.objects.filter(user=mentee, kind="complaint_status").count() == 2
    assert AuditEvent.objects.filter(action="complaint.status", actor=coordinator).count() == 2


def test_resolving_or_dismissing_needs_an_outcome(mentee, coordinator):
    complaint = make(mentee)
    for status in ("resolved", "dismissed"):
        with pytest.raises(ValidationError) as refused:
            complaints.complaint_status_set(complaint_id=complaint.pk, status=status, outcome=" ", actor=coordinator)
        assert "Write the outcome" in str(refused.value)
    complaint.refresh_from_db()
    assert complaint.status == "received"


def test_a_closed_complaint_does_not_reopen(mentee, scheme_staff):
    complaint = make(mentee)
    complaints.complaint_status_set(complaint_id=complaint.pk, status="resolved", outcome="Done.", actor=scheme_staff)
    with pytest.raises(ValidationError):
        complaints.complaint_status_set(
            complaint_id=complaint.pk, status="investigating", outcome="Done.", actor=scheme_staff
        )


def test_a_coordinator_of_another_network_cannot_handle_it(mentee, other_network):
    outsider = factories.UserFactory(is_staff=True)
    outsider.groups.add(Group.objects.get(name=settings.GROUP_COORDINATORS))
    other_network.coordinators.add(outsider)
    complaint = make(mentee)
    with pytest.raises(PermissionDenied):
        complaints.complaint_status_set(complaint_id=complaint.pk, status="investigating", outcome="", actor=outsider)


def test_no_one_handles_a_complaint_about_themselves(mentee, mentor, pairing, scheme_staff):
    complaint = make(mentee, about=Complaint.About.PERSON, person=mentor)
    assert not complaints.may_handle(mentor, complaint)
    assert complaints.may_handle(scheme_staff, complaint)


def test_the_admin_refuses_an_end_without_an_outcome_and_writes_nothing(client, mentee, coordinator):
    complaint = make(mentee)
    client.force_login(coordinator)
    url = reverse("admin:safeguarding_complaint_change", args=[complaint.pk])
    response = client.post(url, {"status": "resolved", "outcome": ""})
    assert response.status_code == 200
    assert "Write the outcome" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == "received"
    response = client.post(url, {"status": "investigating", "outcome": ""})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.handled_by) == ("investigating", coordinator)


def test_the_footer_links_the_complaint_form_and_the_procedure_says_how_it_works(client, db):
    call_command("seed_demo")
    page = client.get(reverse("document_detail", args=["complaints-procedure"])).content.decode()
    assert f'href="{reverse("complaint_new")}"' in page
    for step in ("received", "investigating", "resolved", "dismissed", "five working days", "coordinator"):
        assert step in page


def test_the_pairing_page_leads_to_a_complaint_about_that_pairing(client, documents, scheme, network):
    # R-SAFE-4: from the pairing page, the form starts with the pairing chosen; another person's pairing is ignored
    mentor = factories.listed_mentor(scheme, network)
    mentee = factories.eligible_mentee(scheme, network)
    pairing = Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=mentee, network=network)
    client.force_login(mentee)
    page = client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    assert f"/complaints/new/?pairing={pairing.pk}" in page
    form = client.get(reverse("complaint_new"), {"pairing": pairing.pk}).context["form"]
    assert form.initial == {"about": "pairing", "pairing": pairing.pk}
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    assert client.get(reverse("complaint_new"), {"pairing": pairing.pk}).context["form"].initial == {}
