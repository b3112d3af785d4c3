"""Pairings a coordinator proposes start only when both members have declared their conflicts and confirmed
(R-MATCH-3, R-MATCH-5, R-MATCH-8): by hand from the ranked list, or from a cohort run."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from matching import selectors, services
from matching.models import ConflictBlock, ConflictDeclaration, PairingProposal
from matching.suggest import fit_out_of_100
from mentoring.models import Pairing, SchemeMembership
from messaging.models import Notification
from safeguarding.models import AuditEvent
from tests import factories
from tests.conftest import _role_user
from tests.matching.conftest import NO_CONFLICT

BLOCKING = {"kind": "line_manager", "details": "She manages my team.", "manageable": False}


@pytest.fixture
def other_coordinator(db, other_network):
    user = _role_user(settings.GROUP_COORDINATORS, first_name="Nina")
    other_network.coordinators.add(user)
    return user


@pytest.fixture
def proposal(seeker, listed, scheme, coordinator):
    return services.proposal_create(scheme=scheme, mentee=seeker, mentor=listed, actor=coordinator)


def membership_of(mentee, scheme):
    return SchemeMembership.objects.get(user=mentee, scheme=scheme, role="mentee")


def kinds(user) -> set[str]:
    return set(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_no_pairing_exists_before_both_confirm(proposal, seeker, listed):
    # R-MATCH-5, R-MATCH-8: nobody is paired without being asked
    assert proposal.status == "proposed" and not Pairing.objects.exists()
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    proposal.refresh_from_db()
    assert proposal.status == "proposed" and proposal.mentee_confirmed_at is not None
    assert not Pairing.objects.exists()


def test_confirming_by_both_starts_the_pairing(proposal, seeker, listed, coordinator):
    # R-MATCH-3, R-MATCH-5
    services.proposal_confirm(proposal_id=proposal.pk, member=listed, declaration=NO_CONFLICT)
    started = services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    pairing = Pairing.objects.get()
    assert started.status == "started" and started.pairing == pairing
    assert (pairing.mentor, pairing.mentee, pairing.origin, pairing.created_by) == (
        listed,
        seeker,
        "manual",
        coordinator,
    )
    assert ConflictDeclaration.objects.filter(proposal=proposal).count() == 2
    assert "pairing_started" in kinds(seeker) and "pairing_started" in kinds(listed)
    assert "proposal_started_coordinator" in kinds(coordinator)
    assert AuditEvent.objects.filter(action="proposal.confirmed").count() == 2


def test_members_are_told_of_a_proposal_on_the_platform_and_by_email(
    seeker, listed, scheme, coordinator, django_capture_on_commit_callbacks
):
    # Persist, then deliver: the notifications are rows; the emails go after commit.
    with django_capture_on_commit_callbacks(execute=True):
        proposal = services.proposal_create(scheme=scheme, mentee=seeker, mentor=listed, actor=coordinator)
    assert "pairing_proposed" in kinds(seeker) and "pairing_proposed" in kinds(listed)
    assert {address for message in mail.outbox for address in message.to} >= {seeker.email, listed.email}
    assert AuditEvent.objects.filter(action="proposal.created", actor=coordinator).exists()
    assert Notification.objects.filter(user=seeker, kind="pairing_proposed").get().url == proposal.get_absolute_url()


@pytest.mark.parametrize("who", ["mentee", "mentor"])
def test_declining_by_either_ends_it(proposal, seeker, listed, coordinator, who):
    # R-MATCH-5
    member, partner = (seeker, listed) if who == "mentee" else (listed, seeker)
    services.proposal_decline(proposal_id=proposal.pk, member=member, reason="Not the right time.")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.declined_by) == ("declined", member)
    assert "Not the right time." in proposal.outcome
    assert not Pairing.objects.exists()
    assert "proposal_declined" in kinds(partner)
    assert "proposal_declined_coordinator" in kinds(coordinator)
    with pytest.raises(services.ProposalRefused, match="already declined"):
        services.proposal_confirm(proposal_id=proposal.pk, member=partner, declaration=NO_CONFLICT)


def test_an_unmanageable_conflict_declines_it_and_tells_the_coordinator(proposal, seeker, listed, coordinator):
    # R-MATCH-5: declared by the member, not ticked by the coordinator
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    services.proposal_confirm(proposal_id=proposal.pk, member=listed, declaration=BLOCKING)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.declined_by) == ("declined", listed)
    assert not Pairing.objects.exists()
    block = ConflictBlock.objects.get()
    assert (block.proposal, block.declared_by, block.kind) == (proposal, listed, "line_manager")
    assert "conflict_blocked" in kinds(coordinator)
    assert "proposal_declined" in kinds(seeker)


def test_a_manageable_conflict_is_recorded_and_the_pairing_goes_ahead(proposal, seeker, listed):
    # R-MATCH-5
    manageable = {"kind": "commercial", "details": "Same employer, different sites.", "manageable": True}
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=manageable)
    services.proposal_confirm(proposal_id=proposal.pk, member=listed, declaration=NO_CONFLICT)
    assert Pairing.objects.count() == 1
    assert ConflictDeclaration.objects.get(proposal=proposal, declared_by=seeker).kind == "commercial"


def test_the_last_place_taken_meanwhile_makes_the_proposal_lapse_with_the_reason(
    documents, scheme, network, coordinator
):
    # R-MATCH-2, R-MATCH-3: capacity still holds; the coordinator reads why it could not start
    mentor = factories.listed_mentor(scheme, network, capacity=1)
    first, second = (factories.eligible_mentee(scheme, network) for _ in range(2))
    proposals = [
        services.proposal_create(scheme=scheme, mentee=mentee, mentor=mentor, actor=coordinator)
        for mentee in (first, second)
    ]
    for member in (first, mentor):
        services.proposal_confirm(proposal_id=proposals[0].pk, member=member, declaration=NO_CONFLICT)
    for member in (second, mentor):
        services.proposal_confirm(proposal_id=proposals[1].pk, member=member, declaration=NO_CONFLICT)
    assert Pairing.objects.filter(mentor=mentor).count() == 1
    lapsed = PairingProposal.objects.get(pk=proposals[1].pk)
    assert lapsed.status == "lapsed" and "the most they have offered to take" in lapsed.outcome
    told = Notification.objects.get(user=coordinator, kind="proposal_lapsed_coordinator")
    assert "the most they have offered to take" in told.body
    assert "proposal_lapsed" in kinds(second)


def test_eligibility_is_checked_again_when_both_have_confirmed(proposal, seeker, listed):
    # R-MATCH-3: a mentor whose training lapsed after the proposal is not paired
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    listed.training_records.all().delete()
    services.proposal_confirm(proposal_id=proposal.pk, member=listed, declaration=NO_CONFLICT)
    proposal.refresh_from_db()
    assert proposal.status == "lapsed" and "cannot take part as a mentor" in proposal.outcome
    assert not Pairing.objects.exists()


def test_confirming_twice_is_refused(proposal, seeker):
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    with pytest.raises(services.ProposalRefused, match="already confirmed"):
        services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    assert ConflictDeclaration.objects.filter(proposal=proposal).count() == 1


def test_another_member_cannot_answer_a_proposal(proposal, documents, scheme, network):
    stranger = factories.eligible_mentee(scheme, network)
    with pytest.raises(PairingProposal.DoesNotExist):
        services.proposal_confirm(proposal_id=proposal.pk, member=stranger, declaration=NO_CONFLICT)
    with pytest.raises(PairingProposal.DoesNotExist):
        services.proposal_decline(proposal_id=proposal.pk, member=stranger)


def test_one_open_proposal_per_mentee_and_pair(proposal, seeker, listed, scheme, network, coordinator):
    other = factories.listed_mentor(scheme, network)
    with pytest.raises(services.ProposalRefused, match="already proposed"):
        services.proposal_create(scheme=scheme, mentee=seeker, mentor=listed, actor=coordinator)
    with pytest.raises(services.ProposalRefused, match="waiting for an answer"):
        services.proposal_create(scheme=scheme, mentee=seeker, mentor=other, actor=coordinator)
    assert PairingProposal.objects.count() == 1


def test_a_coordinator_withdraws_a_proposal(proposal, seeker, listed, coordinator, other_coordinator):
    with pytest.raises(PermissionDenied):
        services.proposal_withdraw(proposal_id=proposal.pk, actor=other_coordinator)
    services.proposal_withdraw(proposal_id=proposal.pk, actor=coordinator)
    proposal.refresh_from_db()
    assert proposal.status == "withdrawn"
    assert "proposal_withdrawn" in kinds(seeker) and "proposal_withdrawn" in kinds(listed)


def test_a_mentee_with_a_proposal_waiting_is_left_out_of_cohort_runs(proposal, seeker, scheme):
    # R-MATCH-4: named with the reason, never silently dropped
    reasons = {person.pk: reason for person, reason in selectors.cohort_preview(scheme=scheme).left_out}
    assert reasons[seeker.pk] == "has a proposed pairing waiting for the members to confirm"


# --- The member's pages ---------------------------------------------------------------------------------------


def test_both_members_see_the_proposal_and_confirm_it_on_the_platform(client, proposal, seeker, listed):
    # R-MATCH-5
    for member in (seeker, listed):
        client.force_login(member)
        home = client.get(reverse("mentoring_home")).content.decode()
        assert "Pairings your coordinator proposes" in home and proposal.get_absolute_url() in home
        page = client.get(proposal.get_absolute_url()).content.decode()
        assert "Do you have any conflict of interest with this person?" in page
        response = client.post(reverse("proposal_confirm", args=[proposal.pk]), {"conflict_kind": "none"})
        assert response.status_code == 302
    assert Pairing.objects.filter(mentor=listed, mentee=seeker).exists()


def test_a_member_declines_on_the_platform(client, proposal, listed):
    client.force_login(listed)
    response = client.post(reverse("proposal_decline", args=[proposal.pk]), {"reason": "Full this term."}, follow=True)
    assert "You declined" in response.content.decode()
    assert PairingProposal.objects.get().status == "declined"


def test_a_conflict_without_details_is_a_clear_error_and_records_nothing(client, proposal, seeker):
    client.force_login(seeker)
    response = client.post(
        reverse("proposal_confirm", args=[proposal.pk]), {"conflict_kind": "friendship"}, follow=True
    )
    assert "Describe the conflict" in response.content.decode()
    assert not ConflictDeclaration.objects.exists()


def test_another_members_proposal_id_is_not_found(client, proposal, documents, scheme, network):
    client.force_login(factories.eligible_mentee(scheme, network))
    assert client.get(reverse("proposal_detail", args=[proposal.pk])).status_code == 404
    assert client.post(reverse("proposal_confirm", args=[proposal.pk]), {"conflict_kind": "none"}).status_code == 404
    assert client.post(reverse("proposal_decline", args=[proposal.pk])).status_code == 404
    assert client.get(reverse("proposal_detail", args=[999999])).status_code == 404
    assert PairingProposal.objects.get().status == "proposed"


# --- The admin's ranked list --------------------------------------------------------------------------------


def test_the_waiting_list_links_each_mentee_to_their_ranked_mentors(client, coordinator, seeker, scheme):
    # R-COORD-2: "find a mentor for this mentee"
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_waitingmentee_changelist")).content.decode()
    link = reverse("admin:mentoring_pairing_add") + f"?mentee={membership_of(seeker, scheme).pk}"
    assert f'href="{link}"' in page


def test_the_ranked_list_offers_only_the_networks_mentors_with_free_places_best_first(
    client, coordinator, documents, scheme, network, other_network
):
    # R-MATCH-3: ranked by fit with reasons, on a stated scale
    energy = factories.SectorFactory(name="Energy")
    mentee = factories.eligible_mentee(scheme, network)
    mentee.mentee_profile.sector = energy
    mentee.mentee_profile.save()
    best = factories.listed_mentor(scheme, network, sector=energy, role_title="Energy lead")
    plain = factories.listed_mentor(scheme, network, role_title="Rail lead")
    full = factories.listed_mentor(scheme, network, sector=energy, capacity=1, role_title="Full lead")
    Pairing.objects.create(
        scheme=scheme, mentor=full, mentee=factories.eligible_mentee(scheme, network), network=network
    )
    elsewhere = factories.listed_mentor(scheme, other_network, sector=energy, role_title="Far lead")
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_pairing_add"), {"mentee": membership_of(mentee, scheme).pk})
    body = page.content.decode()
    assert page.status_code == 200
    ranked = page.context["ranked"]
    assert [r.card.mentor_id for r in ranked] == [best.pk, plain.pk]
    assert "same sector" in ranked[0].reasons and "same sector" in body
    assert "Fit (0–100)" in body and ranked[0].fit == fit_out_of_100(ranked[0].score) > ranked[1].fit
    assert str(full.pk) not in [str(r.card.mentor_id) for r in ranked] and "Far lead" not in body
    assert elsewhere.pk not in [r.card.mentor_id for r in ranked]


def test_the_mentee_choices_are_only_waiting_eligible_mentees_of_the_coordinators_networks(
    client, coordinator, documents, scheme, network, other_network, seeker, listed
):
    lapsed = factories.eligible_mentee(scheme, network, membership_status="lapsed")
    paired = factories.eligible_mentee(scheme, network)
    Pairing.objects.create(scheme=scheme, mentor=listed, mentee=paired, network=network)
    elsewhere = factories.eligible_mentee(scheme, other_network)
    client.force_login(coordinator)
    choices = client.get(reverse("admin:mentoring_pairing_add")).context["form"].fields["mentee"].queryset
    assert {m.user_id for m in choices} == {seeker.pk}
    assert not {lapsed.pk, paired.pk, elsewhere.pk} & {m.user_id for m in choices}


def test_a_coordinator_of_another_network_gets_404(client, other_coordinator, seeker, scheme, proposal):
    # R-COORD-1
    client.force_login(other_coordinator)
    url = reverse("admin:mentoring_pairing_add")
    assert client.get(url, {"mentee": membership_of(seeker, scheme).pk}).status_code == 404
    assert client.get(reverse("admin:matching_pairingproposal_change", args=[proposal.pk])).status_code == 404


@pytest.mark.parametrize("mentee", ["999999", "abc", str(2**63), "-1"])
def test_an_unknown_mentee_id_is_not_found(client, coordinator, mentee):
    client.force_login(coordinator)
    assert client.get(reverse("admin:mentoring_pairing_add"), {"mentee": mentee}).status_code == 404


@pytest.mark.parametrize("mentor", ["999999", "abc", str(2**63), ""])
def test_an_unknown_mentor_is_a_form_error(client, coordinator, seeker, scheme, mentor):
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:mentoring_pairing_add"), {"mentee": membership_of(seeker, scheme).pk, "mentor": mentor}
    )
    assert response.status_code == 400 and "mentor" in response.context["form"].errors
    assert not PairingProposal.objects.exists()


def test_a_mentor_of_another_network_is_a_form_error(client, coordinator, seeker, scheme, other_network):
    far = factories.listed_mentor(scheme, other_network)
    client.force_login(coordinator)
    response = client.post(
        reverse("admin:mentoring_pairing_add"), {"mentee": membership_of(seeker, scheme).pk, "mentor": far.pk}
    )
    assert response.status_code == 400
    assert "is not a listed mentor of" in response.content.decode()
    assert not PairingProposal.objects.exists()


def test_the_ranked_list_reads_the_same_number_of_queries_for_few_or_many_mentors(
    client, coordinator, seeker, scheme, network
):
    # A query count that grows with mentors is a bug: the ranking is one query over the listing table.
    client.force_login(coordinator)
    url = reverse("admin:mentoring_pairing_add")
    params = {"mentee": membership_of(seeker, scheme).pk}

    def count() -> int:
        client.get(url, params)  # warm the per-process caches (names, listing built)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    factories.listed_mentor(scheme, network)
    few = count()
    for _ in range(15):
        factories.listed_mentor(scheme, network)
    assert len(client.get(url, params).context["ranked"]) == 16
    assert count() == few


def test_the_ranked_list_stays_within_a_fixed_number_of_queries(
    client, coordinator, seeker, scheme, network, django_assert_max_num_queries
):
    for _ in range(12):
        factories.listed_mentor(scheme, network)
    client.force_login(coordinator)
    url = reverse("admin:mentoring_pairing_add")
    client.get(url, {"mentee": membership_of(seeker, scheme).pk})
    with django_assert_max_num_queries(30):
        client.get(url, {"mentee": membership_of(seeker, scheme).pk})


def test_a_waiting_mentee_who_cannot_be_paired_now_gets_the_reason_not_a_404(
    client, coordinator, documents, scheme, network, proposal, seeker
):
    # R-MATCH-4: the waiting list's link always answers, with why nobody can be proposed yet
    lapsed = factories.eligible_mentee(scheme, network, membership_status="lapsed", first_name="Lena")
    client.force_login(coordinator)
    url = reverse("admin:mentoring_pairing_add")
    page = client.get(url, {"mentee": membership_of(lapsed, scheme).pk})
    assert page.status_code == 200 and page.context["ranked"] == []
    assert "cannot be paired yet" in page.context["not_now"]
    page = client.get(url, {"mentee": membership_of(seeker, scheme).pk})
    assert "has a proposed pairing waiting for the members to confirm" in page.content.decode()


def test_a_proposal_not_confirmed_in_time_lapses_once_and_everyone_is_told(proposal, seeker, listed, coordinator):
    # R-MATCH-4: an unanswered proposal does not hold the mentee back; safe to run twice
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    days = proposal.scheme.request_expiry_days
    assert services.proposals_expire(now=proposal.created_at + datetime.timedelta(days=days - 1)) == 0
    later = proposal.created_at + datetime.timedelta(days=days + 1)
    assert services.proposals_expire(now=later) == 1
    assert services.proposals_expire(now=later) == 0
    proposal.refresh_from_db()
    assert proposal.status == "lapsed" and f"waiting for {listed.first_name}" in proposal.outcome
    assert Notification.objects.filter(user=coordinator, kind="proposal_lapsed_coordinator").count() == 1
    assert "proposal_lapsed" in kinds(seeker) and "proposal_lapsed" in kinds(listed)
    assert not Pairing.objects.exists()


def test_the_coordinator_reads_why_a_proposal_could_not_start_in_the_admin(
    client, proposal, seeker, listed, coordinator
):
    # R-MATCH-3: the lapse's reason is shown to the coordinator
    services.proposal_confirm(proposal_id=proposal.pk, member=seeker, declaration=NO_CONFLICT)
    listed.training_records.all().delete()
    services.proposal_confirm(proposal_id=proposal.pk, member=listed, declaration=NO_CONFLICT)
    client.force_login(coordinator)
    page = client.get(reverse("admin:matching_pairingproposal_changelist")).content.decode()
    assert "Could not start" in page and "cannot take part as a mentor" in page
    detail = client.get(reverse("admin:matching_pairingproposal_change", args=[proposal.pk])).content.decode()
    assert "cannot take part as a mentor" in detail and "fit (0–100)" in detail.lower()
