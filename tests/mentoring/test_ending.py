# ruff: noqa: F811  (the fixtures imported from ending_fixtures are parameters by name)
"""Ending a pairing: either side with a reason, a coordinator from the admin (R-PAIR-5)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.urls import reverse

from mentoring.ending import pairing_end
from mentoring.ending_selectors import ending_for_pairing, feedback_asked
from mentoring.models import EndOfPairing, FeedbackRequest, Pairing, SchemeMembership
from messaging.models import Notification
from safeguarding.models import AuditEvent
from tests import factories
from tests.mentoring.ending_fixtures import other_coordinator, pair  # noqa: F401


def end_page(pairing):
    return reverse("pairing_end", args=[pairing.pk])


@pytest.mark.parametrize("side", ["mentor", "mentee"])
def test_either_member_ends_the_pairing_with_a_reason_and_the_partner_is_told(client, pair, side):
    # R-PAIR-5: either side, any time, through the End of Pairing form
    actor = getattr(pair, side)
    partner = pair.mentee if side == "mentor" else pair.mentor
    client.force_login(actor)
    response = client.post(end_page(pair), {"reason": "goals_met", "comments": "We got there.", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("pairing_detail", args=[pair.pk])
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ENDED and pair.end_reason == "goals_met" and pair.ended_at
    record = EndOfPairing.objects.get(pairing=pair)
    assert (record.ended_by, record.reason, record.comments) == (actor, "goals_met", "We got there.")
    told = Notification.objects.get(user=partner, kind="pairing_ended")
    assert actor.first_name in told.body and "goals met" in told.body
    assert not Notification.objects.filter(user=actor, kind="pairing_ended").exists()
    # Both are asked for their end-of-pairing feedback.
    assert set(FeedbackRequest.objects.filter(pairing=pair, stage="end").values_list("member", flat=True)) == {
        pair.mentor.pk,
        pair.mentee.pk,
    }


def test_the_form_needs_a_reason_and_the_confirmation(client, pair):
    client.force_login(pair.mentee)
    response = client.post(end_page(pair), {"comments": "x"})
    assert response.status_code == 400
    assert "Choose a reason for ending the pairing." in response.content.decode()
    assert "Tick the box to confirm" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ACTIVE


def test_ending_an_already_ended_pairing_is_refused_with_a_clear_message(client, pair):
    # R-PAIR-5 bad input: nothing half-written
    pairing_end(pairing_id=pair.pk, actor=pair.mentor, reason="other", comments="")
    with pytest.raises(ValidationError, match="already ended"):
        pairing_end(pairing_id=pair.pk, actor=pair.mentee, reason="other", comments="")
    client.force_login(pair.mentee)
    response = client.post(end_page(pair), {"reason": "other", "confirm": "on"})
    assert response.status_code == 400
    assert "already ended" in response.content.decode()
    assert EndOfPairing.objects.filter(pairing=pair).count() == 1


def test_a_stranger_gets_404_and_changes_nothing(client, pair, scheme, network):
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    assert client.get(end_page(pair)).status_code == 404
    assert client.post(end_page(pair), {"reason": "other", "confirm": "on"}).status_code == 404
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ACTIVE
    with pytest.raises(PermissionDenied):
        pairing_end(pairing_id=pair.pk, actor=stranger, reason="other")


def test_ending_for_differences_offers_the_mentee_another_mentor(client, pair):
    # R-PAIR-5 with R-MATCH-6: the rematch already built
    pairing_end(pairing_id=pair.pk, actor=pair.mentor, reason="differences", comments="")
    pair.refresh_from_db()
    assert ending_for_pairing(pair, pair.mentee)["rematch_offer"]
    assert not ending_for_pairing(pair, pair.mentor)["rematch_offer"]
    note = Notification.objects.get(user=pair.mentee, kind="pairing_ended")
    assert "another mentor" in note.body
    client.force_login(pair.mentee)
    assert client.post(reverse("pairing_rematch", args=[pair.pk]), {"note": "Please"}).status_code == 302
    assert ending_for_pairing(pair, pair.mentee)["rematch_asked"]


def test_a_member_cannot_choose_a_reason_the_platform_sets(pair):
    with pytest.raises(ValidationError):
        pairing_end(pairing_id=pair.pk, actor=pair.mentee, reason="scheme_closed")
    with pytest.raises(ValidationError):
        pairing_end(pairing_id=pair.pk, actor=pair.mentee, reason="nonsense")


def test_a_coordinator_of_the_network_ends_it_from_the_admin_and_everyone_is_told(client, pair, coordinator):
    # R-PAIR-5: a coordinator can end a pairing of their network from the admin with a reason
    other = factories.UserFactory(is_staff=True)
    pair.network.coordinators.add(other)
    client.force_login(coordinator)
    url = reverse("admin:mentoring_pairing_end", args=[pair.pk])
    change = client.get(reverse("admin:mentoring_pairing_change", args=[pair.pk])).content.decode()
    assert url in change
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "conflict", "comments": "A line-management conflict."})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ENDED and pair.end_reason == "conflict"
    assert EndOfPairing.objects.get(pairing=pair).ended_by == coordinator
    for member in (pair.mentor, pair.mentee):
        assert Notification.objects.filter(user=member, kind="pairing_ended").exists()
    assert Notification.objects.filter(user=other, kind="pairing_ended_by_coordinator").exists()
    assert AuditEvent.objects.filter(action="pairing.ended", actor=coordinator).exists()
    assert "already ended" in client.get(url).content.decode()


def test_a_coordinator_of_another_network_cannot_end_it(client, pair, other_coordinator):
    # R-COORD-1 with R-PAIR-5
    with pytest.raises(PermissionDenied):
        pairing_end(pairing_id=pair.pk, actor=other_coordinator, reason="other", comments="")
    client.force_login(other_coordinator)
    url = reverse("admin:mentoring_pairing_end", args=[pair.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "other"}).status_code == 404
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ACTIVE


def test_the_safeguarding_lead_and_members_cannot_use_the_admin_end_page(client, pair, safeguarding_lead):
    url = reverse("admin:mentoring_pairing_end", args=[pair.pk])
    client.force_login(safeguarding_lead)
    assert client.post(url, {"reason": "other"}).status_code == 403
    client.force_login(pair.mentee)
    assert client.post(url, {"reason": "other"}).status_code == 302  # to the admin's sign-in
    pair.refresh_from_db()
    assert pair.status == Pairing.Status.ACTIVE


def test_the_pairing_partial_shows_the_action_then_the_end_record(client, pair):
    assert ending_for_pairing(pair, pair.mentee)["can_end"]
    pairing_end(pairing_id=pair.pk, actor=pair.mentee, reason="goals_met", comments="Private words")
    pair.refresh_from_db()
    context = ending_for_pairing(pair, pair.mentor)
    assert not context["can_end"] and context["end_record"].reason == "goals_met"


def test_the_partials_render_for_the_lead_to_include(rf, pair, scheme):
    # The pairing page and "My mentoring" include these; each renders from its selector's context.
    request = rf.get("/")
    request.user = pair.mentee
    html = render_to_string(
        "mentoring/_pairing_ending.html", {"ending": ending_for_pairing(pair, pair.mentee), "user": pair.mentee}
    )
    assert reverse("pairing_end", args=[pair.pk]) in html
    pairing_end(pairing_id=pair.pk, actor=pair.mentor, reason="differences", comments="")
    pair.refresh_from_db()
    context = {"ending": ending_for_pairing(pair, pair.mentee), "user": pair.mentee}
    html = render_to_string("mentoring/_pairing_ending.html", context, request=request)
    assert "Ask for another mentor" in html and "differences" in html
    html = render_to_string(
        "mentoring/_pairing_feedback.html", {"feedback_asked": feedback_asked(pair, pair.mentee)}, request=request
    )
    assert reverse("pairing_feedback", args=[pair.pk, "end"]) in html
    membership = SchemeMembership.objects.get(user=pair.mentee, scheme=scheme)
    html = render_to_string("mentoring/_membership_actions.html", {"membership": membership}, request=request)
    assert reverse("membership_pause", args=[membership.pk]) in html
    assert reverse("membership_withdraw", args=[membership.pk]) in html
