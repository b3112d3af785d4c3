"""Cohort matching from the admin and the command: preview first, drop pairs, confirm proposes them (R-MATCH-3)."""

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from matching import selectors, services
from matching.models import PairingProposal
from mentoring.models import Pairing
from tests import factories


@pytest.fixture
def cohort(documents, scheme, network):
    energy = factories.SectorFactory(name="Energy")
    rail = factories.SectorFactory(name="Rail")
    mentors = [
        factories.listed_mentor(scheme, network, sector=energy, capacity=1, role_title="Energy mentor"),
        factories.listed_mentor(scheme, network, sector=rail, capacity=2, role_title="Rail mentor"),
    ]
    mentees = [factories.eligible_mentee(scheme, network) for _ in range(4)]
    for mentee, sector in zip(mentees, [energy, rail, rail, energy], strict=True):
        mentee.mentee_profile.sector = sector
        mentee.mentee_profile.save()
    return mentors, mentees


def test_the_preview_proposes_pairs_within_capacity_and_changes_nothing(cohort, scheme):
    mentors, _ = cohort
    preview = selectors.cohort_preview(scheme=scheme)
    assert len(preview.pairs) == 3  # 1 + 2 places
    assert len(preview.unmatched) == 1
    per_mentor = {}
    for pair in preview.pairs:
        per_mentor[pair.mentor.pk] = per_mentor.get(pair.mentor.pk, 0) + 1
    assert per_mentor == {mentors[0].pk: 1, mentors[1].pk: 2}
    assert all("same sector" in pair.reasons for pair in preview.pairs)
    assert not Pairing.objects.exists()


def test_confirming_proposes_exactly_the_previewed_pairs_and_starts_none(cohort, scheme, network, coordinator):
    # R-MATCH-3, R-MATCH-5: nobody is paired without being asked
    preview = selectors.cohort_preview(scheme=scheme, network=network)
    proposed, skipped = services.cohort_confirm(token=preview.token(), actor=coordinator)
    assert skipped == []
    assert {(p.mentee_id, p.mentor_id) for p in proposed} == {(p.mentee.pk, p.mentor.pk) for p in preview.pairs}
    assert all(p.origin == "cohort" and p.status == "proposed" for p in proposed)
    assert {p.score for p in proposed} == {p.score for p in preview.pairs}
    assert not Pairing.objects.exists()


def test_a_place_taken_after_the_preview_is_skipped_not_overfilled(cohort, scheme, network, scheme_staff):
    mentors, _ = cohort
    preview = selectors.cohort_preview(scheme=scheme)
    Pairing.objects.create(
        scheme=scheme, mentor=mentors[0], network=network, mentee=factories.eligible_mentee(scheme, network)
    )
    proposed, skipped = services.cohort_confirm(token=preview.token(), actor=scheme_staff)
    assert len(proposed) == 2 and len(skipped) == 1
    assert not PairingProposal.objects.filter(mentor=mentors[0]).exists()


def test_an_altered_token_is_refused(cohort, scheme, scheme_staff):
    token = selectors.cohort_preview(scheme=scheme).token()
    with pytest.raises(ValidationError, match="altered"):
        services.cohort_confirm(token=token[:-3] + "abc", actor=scheme_staff)
    assert not Pairing.objects.exists() and not PairingProposal.objects.exists()


def test_dropped_pairs_are_not_proposed(cohort, scheme, network, coordinator):
    # R-MATCH-3: the coordinator drops single pairs before confirming
    preview = selectors.cohort_preview(scheme=scheme, network=network)
    dropped = preview.pairs[0]
    proposed, _ = services.cohort_confirm(token=preview.token(), actor=coordinator, drop=[dropped.key])
    assert len(proposed) == len(preview.pairs) - 1
    assert not PairingProposal.objects.filter(mentee=dropped.mentee, mentor=dropped.mentor).exists()


def test_dropping_a_pair_not_in_the_preview_is_refused_and_writes_nothing(cohort, scheme, network, coordinator):
    preview = selectors.cohort_preview(scheme=scheme, network=network)
    for drop in (["999999-888888"], ["not a pair"], [p.key for p in preview.pairs]):
        with pytest.raises(ValidationError):
            services.cohort_confirm(token=preview.token(), actor=coordinator, drop=drop)
    assert not PairingProposal.objects.exists()


def test_the_admin_previews_then_proposes(client, cohort, scheme, coordinator, network):
    client.force_login(coordinator)
    url = reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])
    page = client.get(url, {"network": network.pk})
    assert page.status_code == 200
    body = page.content.decode()
    assert "3 pairings proposed" in body and "1 mentee left waiting" in body
    assert "same sector" in body and "Fit (0–100)" in body and 'name="drop"' in body
    assert not Pairing.objects.exists()
    preview = page.context["preview"]
    dropped = preview.pairs[-1]
    response = client.post(
        url + f"?network={network.pk}", {"token": preview.token(), "drop": [dropped.key]}, follow=True
    )
    assert "Proposed 2 pairings." in response.content.decode()
    assert PairingProposal.objects.filter(origin="cohort").count() == 2
    assert not PairingProposal.objects.filter(mentee=dropped.mentee).exists()
    assert not Pairing.objects.exists()


def test_the_admin_says_1_pairing_not_1_pairings(client, cohort, scheme, coordinator, network):
    client.force_login(coordinator)
    url = reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])
    preview = client.get(url, {"network": network.pk}).context["preview"]
    response = client.post(url, {"token": preview.token(), "drop": [p.key for p in preview.pairs[1:]]}, follow=True)
    assert "Proposed 1 pairing." in response.content.decode()


def test_a_tampered_token_in_the_admin_gives_a_clear_message(client, cohort, scheme, coordinator, network):
    client.force_login(coordinator)
    url = reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])
    response = client.post(url, {"token": "forged"}, follow=True)
    assert response.status_code == 200
    assert "This preview has expired or was altered; run the preview again." in response.content.decode()
    assert not PairingProposal.objects.exists()


def test_the_network_defaults_to_the_coordinators_own(client, cohort, scheme, coordinator, network):
    client.force_login(coordinator)
    page = client.get(reverse("admin:mentoring_scheme_cohort", args=[scheme.pk]))
    assert page.context["form"]["network"].value() == network.pk
    assert f'<option value="{network.pk}" selected>' in page.content.decode()


def test_a_coordinator_must_pick_one_of_their_networks(client, cohort, scheme, coordinator, other_network):
    client.force_login(coordinator)
    url = reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])
    page = client.get(url, {"network": other_network.pk})
    assert page.status_code == 400 and page.context["preview"] is None
    assert "network" in page.context["form"].errors


def test_members_cannot_reach_the_cohort_page(client, cohort, scheme):
    _, mentees = cohort
    client.force_login(mentees[0])
    assert client.get(reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])).status_code in (302, 403)


def test_the_command_previews_and_confirms(cohort, scheme, scheme_staff):
    out = StringIO()
    call_command("cohort_match", "--scheme", scheme.slug, stdout=out)
    assert "3 pairs" in out.getvalue() and "Preview only" in out.getvalue()
    assert not Pairing.objects.exists()
    with pytest.raises(CommandError, match="--as"):
        call_command("cohort_match", "--scheme", scheme.slug, "--confirm", stdout=out)
    assert not PairingProposal.objects.exists()
    call_command("cohort_match", "--scheme", scheme.slug, "--confirm", "--as", scheme_staff.email, stdout=out)
    assert PairingProposal.objects.filter(origin="cohort").count() == 3 and not Pairing.objects.exists()


def test_the_command_confirms_only_as_someone_allowed(cohort, scheme, coordinator, other_network):
    # A coordinator confirms runs of their own network only; a run over every network is for staff.
    with pytest.raises(CommandError, match="cannot confirm"):
        call_command("cohort_match", "--scheme", scheme.slug, "--confirm", "--as", coordinator.email, stdout=StringIO())
    assert not Pairing.objects.exists()


def test_a_coordinator_cannot_confirm_another_networks_run(cohort, scheme, coordinator, other_network):
    preview = selectors.cohort_preview(scheme=scheme, network=other_network)
    with pytest.raises(PermissionDenied):
        services.cohort_confirm(token=preview.token(), actor=coordinator)
    whole = selectors.cohort_preview(scheme=scheme)
    with pytest.raises(PermissionDenied):
        services.cohort_confirm(token=whole.token(), actor=coordinator)
    assert not Pairing.objects.exists()


def test_a_member_cannot_confirm_a_run(cohort, scheme, network):
    _, mentees = cohort
    preview = selectors.cohort_preview(scheme=scheme, network=network)
    with pytest.raises(PermissionDenied):
        services.cohort_confirm(token=preview.token(), actor=mentees[0])
    assert not Pairing.objects.exists()


def test_the_command_rejects_an_unknown_scheme(db):
    with pytest.raises(CommandError, match="No scheme"):
        call_command("cohort_match", "--scheme", "nope")


def test_waiting_mentees_left_out_are_named_with_the_reason(cohort, scheme, network, no_conflict):
    # R-MATCH-4: never silently dropped
    no_goals = factories.eligible_mentee(scheme, network, goals=False)
    lapsed = factories.eligible_mentee(scheme, network, membership_status="lapsed")
    asking = factories.eligible_mentee(scheme, network)
    other = factories.listed_mentor(scheme, network)
    services.request_send(
        mentee=asking, profile=other.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    preview = selectors.cohort_preview(scheme=scheme)
    reasons = {person.pk: reason for person, reason in preview.left_out}
    assert reasons == {
        no_goals.pk: "has not set out their goals",
        lapsed.pk: "not eligible yet (see their onboarding checklist)",
        asking.pk: "has a request waiting for a mentor's answer",
    }
    assert not {no_goals.pk, lapsed.pk, asking.pk} & {p.mentee.pk for p in preview.pairs}
