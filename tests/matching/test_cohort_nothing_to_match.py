"""A cohort run with nothing to match, or bad input, says so plainly; the preview states how good it is.

R-MATCH-3 (cohort matching from the admin), R-MATCH-4 (nobody silently dropped).
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from matching import selectors
from mentoring.models import Pairing
from tests import factories


def cohort_page(client, user, scheme, **params):
    client.force_login(user)
    return client.get(reverse("admin:mentoring_scheme_cohort", args=[scheme.pk]), params)


def test_an_empty_network_gives_a_clear_message(client, documents, scheme, network, coordinator):
    page = cohort_page(client, coordinator, scheme, network=network.pk)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nobody in London is waiting for a mentor and no mentor has a free place" in body
    assert 'role="status"' in body
    assert "Propose the pairings you kept" not in body


def test_a_whole_scheme_with_nobody_in_it_gives_a_clear_message(client, documents, scheme, scheme_staff):
    page = cohort_page(client, scheme_staff, scheme, network="")
    assert page.status_code == 200
    assert "Nobody in this scheme is waiting for a mentor" in page.content.decode()


def test_no_mentees_waiting_gives_a_clear_message(client, documents, scheme, network, coordinator):
    factories.listed_mentor(scheme, network, capacity=2)
    page = cohort_page(client, coordinator, scheme, network=network.pk)
    assert page.status_code == 200
    assert "Nobody in London is waiting for a mentor, so there is nothing to match." in page.content.decode()


def test_no_free_places_gives_a_clear_message(client, documents, scheme, network, coordinator):
    full = factories.listed_mentor(scheme, network, capacity=1)
    Pairing.objects.create(
        scheme=scheme, mentor=full, network=network, mentee=factories.eligible_mentee(scheme, network)
    )
    factories.eligible_mentee(scheme, network)
    factories.eligible_mentee(scheme, network)
    page = cohort_page(client, coordinator, scheme, network=network.pk)
    assert page.status_code == 200
    body = page.content.decode()
    assert "No mentor in London has a free place, so nobody can be matched now." in body
    assert "The 2 waiting mentees stay on the waiting list." in body
    assert "Propose the pairings you kept" not in body


def test_mentees_who_cannot_be_paired_with_anyone_free_are_told_so(documents, scheme, network):
    mentor = factories.listed_mentor(scheme, network, capacity=2)
    mentee = factories.eligible_mentee(scheme, network)
    Pairing.objects.create(scheme=scheme, mentor=mentor, network=network, mentee=mentee, status=Pairing.Status.ENDED)
    preview = selectors.cohort_preview(scheme=scheme, network=network)
    assert preview.pairs == []
    assert preview.notice.startswith("The waiting mentee cannot be paired with any mentor who has a free place")


def test_the_preview_says_how_close_to_the_best_possible_it_is(client, documents, scheme, network, coordinator):
    factories.listed_mentor(scheme, network, capacity=2)
    factories.eligible_mentee(scheme, network)
    page = cohort_page(client, coordinator, scheme, network=network.pk)
    body = page.content.decode()
    assert "each pair scores from 0 to 10.5" in body
    assert "the best possible; no other choice scores more." in body
    assert page.context["preview"].gap == 0


@pytest.mark.parametrize(
    ("gap", "words"),
    [(0.0031, "within 0.4% of the best possible"), (0.00001, "within 0.1% of the best possible")],
)
def test_a_gap_is_rounded_up_so_the_claim_holds(gap, words, scheme):
    preview = selectors.CohortPreview(
        scheme, None, [object()], [], 100.0, [], upper_bound=100.0 / (1 - gap), gap=gap, mentors_with_places=1
    )
    assert words in preview.quality
    assert "no choice of pairs can score more than" in preview.quality


def test_confirming_a_preview_with_no_pairs_says_there_is_nothing_to_propose(
    client, documents, scheme, network, coordinator
):
    token = selectors.cohort_preview(scheme=scheme, network=network).token()
    client.force_login(coordinator)
    url = reverse("admin:mentoring_scheme_cohort", args=[scheme.pk])
    response = client.post(url + f"?network={network.pk}", {"token": token}, follow=True)
    assert response.status_code == 200
    assert "This preview proposed no pairs, so there is nothing to propose." in response.content.decode()
    assert not Pairing.objects.exists()


@pytest.mark.parametrize("network_param", ["abc", "999999", "-1"])
def test_a_network_that_is_not_one_gives_a_form_error(client, documents, scheme, coordinator, network_param):
    page = cohort_page(client, coordinator, scheme, network=network_param)
    assert page.status_code == 400
    assert page.context["preview"] is None
    assert "network" in page.context["form"].errors


def test_the_command_says_there_is_nothing_to_propose(documents, scheme, scheme_staff):
    out = StringIO()
    call_command("cohort_match", "--scheme", scheme.slug, "--confirm", "--as", scheme_staff.email, stdout=out)
    assert "Nobody in this scheme is waiting for a mentor" in out.getvalue()
    assert "Nothing to propose." in out.getvalue()
    assert not Pairing.objects.exists()
