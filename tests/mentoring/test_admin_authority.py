"""Admin authority: who may act in the admin, and on which records (R-COORD-1, R-SAFE-3, R-MATCH-5)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.urls import reverse

from matching.models import MentorProfile, ProfileReport
from mentoring.models import Pairing, Role, TermsVersion
from messaging.models import Notification
from messaging.services import notify
from safeguarding.models import AuditEvent
from tests import factories
from tests.conftest import _role_user


@pytest.fixture
def north_west(db):
    return factories.LocalNetworkFactory(name="North West", slug="north-west")


@pytest.fixture
def two_sided(documents, scheme, network, north_west):
    """A mentee in London who is also a mentor in the North West, with a mentor profile and a request as mentor."""
    user = factories.UserFactory(first_name="Priya", last_name="Twosided")
    factories.accept_current_documents(user)
    factories.train(user)
    factories.MembershipFactory(user=user, scheme=scheme, network=network, role=Role.MENTEE)
    factories.MembershipFactory(user=user, scheme=scheme, network=north_west, role=Role.MENTOR)
    factories.MentorProfileFactory(user=user, role_title="Northern mentor")
    return user


def test_nobody_but_a_superuser_sets_another_persons_password(client, coordinator, scheme_staff, mentee):
    # A coordinator or staff member who could set a password could sign in as that person.
    for person in (coordinator, scheme_staff):
        client.force_login(person)
        url = reverse("admin:auth_user_password_change", args=[mentee.pk])
        assert client.get(url).status_code == 403
        response = client.post(url, {"password1": "a-new-Password-123", "password2": "a-new-Password-123"})
        assert response.status_code == 403
    mentee.refresh_from_db()
    assert mentee.check_password(factories.PASSWORD)


def test_staff_cannot_change_the_safeguarding_leads_email_or_password(client, scheme_staff, safeguarding_lead):
    client.force_login(scheme_staff)
    page = client.get(reverse("admin:accounts_user_change", args=[safeguarding_lead.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "email" not in form.fields and "password" not in form.fields
    body = page.content.decode()
    assert "pbkdf2" not in body and "md5$" not in body and "password hash" not in body.lower()


def test_staff_send_a_password_reset_email_instead(client, scheme_staff, mentee):
    client.force_login(scheme_staff)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_reset", "_selected_action": [mentee.pk]},
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[mentee.email]]
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_a_coordinator_cannot_send_password_resets(client, coordinator, mentee):
    client.force_login(coordinator)
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "send_password_reset", "_selected_action": [mentee.pk]},
    )
    assert mail.outbox == []


def test_a_coordinator_cannot_publish_a_document(client, coordinator, documents):
    draft = factories.TermsVersionFactory(kind="privacy-notice", version="2027.9", published_at=None)
    client.force_login(coordinator)
    client.post(
        reverse("admin:mentoring_termsversion_changelist"), {"action": "publish", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.published_at is None
    assert not Notification.objects.filter(kind="terms_published").exists()


def test_the_safeguarding_lead_cannot_approve_a_profile(client, safeguarding_lead, documents, scheme, network):
    mentor = factories.listed_mentor(scheme, network)
    MentorProfile.objects.filter(user=mentor).update(status=MentorProfile.Status.SUBMITTED)
    client.force_login(safeguarding_lead)
    client.post(
        reverse("admin:matching_mentorprofile_changelist"),
        {"action": "approve", "_selected_action": [mentor.mentor_profile.pk]},
    )
    assert MentorProfile.objects.get(user=mentor).status == MentorProfile.Status.SUBMITTED


def test_staff_publish_through_the_admin(client, scheme_staff, documents, mentee):
    draft = factories.TermsVersionFactory(kind="privacy-notice", version="2027.9", published_at=None)
    client.force_login(scheme_staff)
    client.post(
        reverse("admin:mentoring_termsversion_changelist"), {"action": "publish", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.published_at is not None
    assert AuditEvent.objects.filter(action="terms.published", actor=scheme_staff).exists()


def test_a_two_sided_member_is_seen_by_the_london_coordinator_as_a_mentee_only(client, coordinator, two_sided):
    # R-COORD-1: scope follows the record's own network, not any network the person belongs to
    client.force_login(coordinator)
    profile = two_sided.mentor_profile
    assert client.get(reverse("admin:matching_mentorprofile_change", args=[profile.pk])).status_code == 404
    listing = client.get(reverse("admin:matching_mentorprofile_changelist"))
    assert profile not in listing.context["cl"].result_list
    member_page = client.get(reverse("admin:accounts_user_change", args=[two_sided.pk]))
    assert member_page.status_code == 200
    memberships = member_page.context["inline_admin_formsets"][0].formset.queryset
    assert [(m.network.name, m.role) for m in memberships] == [("London", "mentee")]
    assert "North West" not in member_page.content.decode()


def test_the_north_west_coordinator_sees_the_mentor_side(client, two_sided, north_west):
    northern = _role_user("Coordinators", first_name="Nina")
    north_west.coordinators.add(northern)
    client.force_login(northern)
    page = client.get(reverse("admin:matching_mentorprofile_change", args=[two_sided.mentor_profile.pk]))
    assert page.status_code == 200


def test_requests_belong_to_the_mentees_network_in_that_scheme(
    client, coordinator, two_sided, scheme, north_west, documents
):
    # A request to the two-sided member as mentor, from a North West mentee: not London's.
    asker = factories.eligible_mentee(scheme, north_west)
    request = factories.MentorshipRequestFactory(scheme=scheme, mentee=asker, mentor=two_sided)
    client.force_login(coordinator)
    assert client.get(reverse("admin:matching_mentorshiprequest_change", args=[request.pk])).status_code == 404


def test_view_on_site_is_not_found_outside_the_viewers_scope(client, coordinator, two_sided, documents, scheme):
    content_type = ContentType.objects.get_for_model(MentorProfile)
    client.force_login(coordinator)
    url = f"/admin/r/{content_type.pk}/{two_sided.mentor_profile.pk}/"
    assert client.get(url).status_code == 404
    assert client.get(f"/admin/r/{content_type.pk}/not-an-id/").status_code == 404
    assert client.get(f"/admin/r/999999/{two_sided.mentor_profile.pk}/").status_code == 404


def test_view_on_site_still_works_inside_the_scope(client, scheme_staff, two_sided):
    content_type = ContentType.objects.get_for_model(MentorProfile)
    client.force_login(scheme_staff)
    response = client.get(f"/admin/r/{content_type.pk}/{two_sided.mentor_profile.pk}/")
    assert response.status_code == 302
    assert response["Location"].endswith(two_sided.mentor_profile.get_absolute_url())


def test_notification_bodies_are_not_shown_in_the_admin(client, scheme_staff, mentee, coordinator, safeguarding_lead):
    note = notify(mentee, "conflict_blocked", body="Private: I am struggling with my manager")
    for person in (scheme_staff, coordinator, safeguarding_lead):
        client.force_login(person)
        for url in (
            reverse("admin:messaging_notification_changelist"),
            reverse("admin:messaging_notification_change", args=[note.pk]),
        ):
            response = client.get(url)
            assert "struggling with my manager" not in response.content.decode()


def test_no_requirement_ids_in_admin_pages(client, scheme_staff, mentee, scheme):
    client.force_login(scheme_staff)
    for url in (
        reverse("admin:accounts_user_change", args=[mentee.pk]),
        reverse("admin:mentoring_scheme_change", args=[scheme.pk]),
        reverse("admin:mentoring_pairing_add"),
    ):
        body = client.get(url).content.decode()
        assert "R-ELIG" not in body and "R-MATCH" not in body, url


def test_resolving_a_profile_report_is_audited(client, coordinator, documents, scheme, network, mentee):
    mentor = factories.listed_mentor(scheme, network)
    report = ProfileReport.objects.create(profile=mentor.mentor_profile, reporter=mentee, reason="Uses a logo")
    client.force_login(coordinator)
    url = reverse("admin:matching_profilereport_change", args=[report.pk])
    empty = client.post(url, {"resolution": "  "})
    assert empty.status_code == 200
    report.refresh_from_db()
    assert report.status == ProfileReport.Status.OPEN
    client.post(url, {"resolution": "Asked the mentor to remove the logo."})
    report.refresh_from_db()
    assert (report.status, report.resolved_by) == (ProfileReport.Status.RESOLVED, coordinator)
    assert AuditEvent.objects.filter(action="profile_report.resolved", actor=coordinator).exists()


def test_a_garbage_selection_in_an_admin_action_is_refused_politely(client, scheme_staff, mentee):
    client.force_login(scheme_staff)
    for selected in (["abc"], ["99999999999999999999999"], ["1; DROP TABLE"]):
        response = client.post(
            reverse("admin:accounts_user_changelist"), {"action": "send_password_reset", "_selected_action": selected}
        )
        assert response.status_code == 302
    assert mail.outbox == []


def test_an_admin_change_page_with_a_huge_or_garbage_id_is_not_found(client, scheme_staff):
    client.force_login(scheme_staff)
    for object_id in ("99999999999999999999999", "abc"):
        assert client.get(f"/admin/mentoring/pairing/{object_id}/change/").status_code == 404


def test_the_pairing_add_page_is_the_manual_pairing_view(client, coordinator, safeguarding_lead):
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_pairing_add"))
    assert page.status_code == 200 and "Waiting mentee" in page.content.decode()
    client.force_login(safeguarding_lead)
    assert client.get(reverse("admin:mentoring_pairing_add")).status_code == 403
    assert not Pairing.objects.exists()


def test_documents_stay_scheme_wide_for_coordinators(client, coordinator, documents):
    client.force_login(coordinator)
    listing = client.get(reverse("admin:mentoring_termsversion_changelist"))
    assert listing.context["cl"].result_count == TermsVersion.objects.count()


def test_the_membership_form_cannot_withdraw_behind_the_withdrawal_service(client, coordinator, mentee):
    # R-PAIR-7: withdrawing ends pairings and tells partners, so it is never a plain status change
    membership = mentee.memberships.get()
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:mentoring_schememembership_change", args=[membership.pk]),
        {"network": membership.network_id, "status": "withdrawn"},
    )
    assert response.status_code == 200
    assert "Withdraw from the scheme" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == "active"
