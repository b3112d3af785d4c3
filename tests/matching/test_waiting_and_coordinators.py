"""The waiting list, manual matching and rematching (R-MATCH-3, R-MATCH-4, R-MATCH-6)."""

import datetime

from django.urls import reverse
from django.utils import timezone

from matching import services
from matching.models import PairingProposal
from mentoring.models import Pairing, RematchRequest, SchemeMembership
from messaging.models import Notification
from tests import factories


def test_an_unmatched_mentee_sees_how_long_they_have_waited(client, seeker, scheme):
    # R-MATCH-4
    SchemeMembership.objects.filter(user=seeker).update(joined_at=timezone.now() - datetime.timedelta(days=12))
    client.force_login(seeker)
    page = client.get(reverse("mentoring_home")).content.decode()
    assert "Waiting for a mentor for 12 days" in page
    assert "never dropped" in page


def test_a_paired_mentee_sees_their_mentor_instead(client, seeker, listed, scheme, network):
    Pairing.objects.create(scheme=scheme, mentor=listed, mentee=seeker, network=network)
    client.force_login(seeker)
    page = client.get(reverse("mentoring_home")).content.decode()
    assert "Paired with" in page and "Waiting for a mentor" not in page


def test_coordinators_see_unmatched_mentees_oldest_first_in_their_networks(
    client, coordinator, documents, scheme, network, other_network
):
    # R-MATCH-4, R-COORD-1
    old = factories.eligible_mentee(scheme, network, first_name="Oldest")
    new = factories.eligible_mentee(scheme, network, first_name="Newest")
    elsewhere = factories.eligible_mentee(scheme, other_network, first_name="Elsewhere")
    paired = factories.eligible_mentee(scheme, network, first_name="Paired")
    SchemeMembership.objects.filter(user=old).update(joined_at=timezone.now() - datetime.timedelta(days=40))
    mentor = factories.listed_mentor(scheme, network)
    Pairing.objects.create(scheme=scheme, mentor=mentor, mentee=paired, network=network)
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_waitingmentee_changelist")).content.decode()
    assert page.index(str(old)) < page.index(str(new))
    assert str(elsewhere) not in page and str(paired) not in page


def manual(client, mentee, mentor, scheme):
    membership = SchemeMembership.objects.get(user=mentee, scheme=scheme, role="mentee")
    return client.post(reverse("admin:mentoring_pairing_add"), {"mentee": membership.pk, "mentor": mentor.pk})


def test_a_coordinator_proposes_a_pairing_by_hand_and_nothing_starts_yet(client, coordinator, seeker, listed, scheme):
    # R-MATCH-3, R-MATCH-5: the members are asked; the coordinator ticks nothing
    client.force_login(coordinator)
    response = manual(client, seeker, listed, scheme)
    assert response.status_code == 302, response.context["form"].errors
    proposal = PairingProposal.objects.get()
    assert (proposal.origin, proposal.proposed_by, proposal.status) == ("manual", coordinator, "proposed")
    assert not Pairing.objects.exists()
    assert Notification.objects.filter(user=seeker, kind="pairing_proposed").exists()
    assert Notification.objects.filter(user=listed, kind="pairing_proposed").exists()


def test_the_manual_pairing_page_has_no_conflict_tick(client, coordinator):
    # R-MATCH-5: each side's declaration is asked of the members, not ticked by the coordinator
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_pairing_add")).content.decode()
    assert "conflicts_checked" not in page


def test_manual_matching_keeps_the_capacity_rule(client, coordinator, seeker, scheme, network):
    # R-MATCH-3: a mentor with no free place is not offered, and a forged choice is a form error
    mentor = factories.listed_mentor(scheme, network, capacity=1)
    Pairing.objects.create(
        scheme=scheme, mentor=mentor, mentee=factories.eligible_mentee(scheme, network), network=network
    )
    client.force_login(coordinator)
    response = manual(client, seeker, mentor, scheme)
    assert response.status_code == 400
    assert "with a free place" in response.content.decode()
    assert Pairing.objects.count() == 1 and not PairingProposal.objects.exists()


def test_manual_matching_keeps_the_eligibility_rule(client, coordinator, seeker, listed, scheme):
    listed.training_records.all().delete()
    client.force_login(coordinator)
    response = manual(client, seeker, listed, scheme)
    assert response.status_code == 400
    assert not Pairing.objects.exists() and not PairingProposal.objects.exists()


def test_a_coordinator_cannot_pick_members_of_another_network(
    client, coordinator, documents, scheme, other_network, listed
):
    outsider = factories.eligible_mentee(scheme, other_network)
    client.force_login(coordinator)
    response = manual(client, outsider, listed, scheme)
    assert response.status_code == 400
    assert "mentee" in response.context["form"].errors
    assert not Pairing.objects.exists() and not PairingProposal.objects.exists()


def test_after_ending_for_differences_the_mentee_can_ask_for_another_mentor(
    client, seeker, listed, scheme, network, coordinator
):
    # R-MATCH-6
    pairing = Pairing.objects.create(
        scheme=scheme,
        mentor=listed,
        mentee=seeker,
        network=network,
        status="ended",
        end_reason="differences",
        ended_at=timezone.now(),
    )
    client.force_login(seeker)
    assert "Ask for another mentor" in client.get(reverse("pairing_detail", args=[pairing.pk])).content.decode()
    client.post(reverse("pairing_rematch", args=[pairing.pk]), {"note": "We did not click."})
    client.post(reverse("pairing_rematch", args=[pairing.pk]), {"note": "Again"})  # twice is one request
    assert RematchRequest.objects.get().note == "We did not click."
    assert Notification.objects.filter(user=coordinator, kind="rematch_requested").count() == 1


def test_rematch_is_refused_for_other_endings_and_other_people(client, seeker, listed, scheme, network):
    pairing = Pairing.objects.create(
        scheme=scheme,
        mentor=listed,
        mentee=seeker,
        network=network,
        status="ended",
        end_reason="goals_met",
        ended_at=timezone.now(),
    )
    client.force_login(seeker)
    response = client.post(reverse("pairing_rematch", args=[pairing.pk]), follow=True)
    assert "ended for differences" in response.content.decode()
    client.force_login(listed)  # the mentor is not the mentee of this pairing
    assert client.post(reverse("pairing_rematch", args=[pairing.pk])).status_code == 404
    assert not RematchRequest.objects.exists()


def test_the_home_page_shows_requests_waiting_for_a_mentor(client, seeker, listed, scheme, no_conflict):
    services.request_send(
        mentee=seeker, profile=listed.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    client.force_login(listed)
    page = client.get(reverse("mentoring_home")).content.decode()
    assert "Requests waiting for you" in page and seeker.first_name in page
