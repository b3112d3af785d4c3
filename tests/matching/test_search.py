"""Search, suggestions with reasons, and what is never shown (R-MATCH-1, R-MATCH-7, R-PROFILE-1..4)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Language
from matching import listing, selectors, services
from matching.models import MentorProfile, MentorshipRequest
from mentoring.models import Pairing
from safeguarding import eligibility
from tests import factories


@pytest.fixture
def energy(db):
    return factories.SectorFactory(name="Energy")


@pytest.fixture
def rail(db):
    return factories.SectorFactory(name="Rail")


@pytest.fixture
def areas(db):
    return [factories.ExpertiseAreaFactory(name=n) for n in ("Power systems", "Chartership", "Project management")]


def test_search_lists_only_approved_and_eligible_mentors(client, seeker, scheme, network, energy):
    # R-PROFILE-3: approved, and eligible today
    shown = factories.listed_mentor(scheme, network, sector=energy, role_title="Grid engineer")
    waiting = factories.listed_mentor(scheme, network, status="submitted", role_title="Unapproved engineer")
    lapsed = factories.listed_mentor(scheme, network, role_title="Lapsed engineer")
    lapsed.membership_expires_on = timezone.localdate() - datetime.timedelta(days=1)
    lapsed.save()
    client.force_login(seeker)
    page = client.get(reverse("mentor_list")).content.decode()
    assert "Grid engineer" in page
    assert "Unapproved engineer" not in page and "Lapsed engineer" not in page
    assert client.get(reverse("mentor_detail", args=[waiting.mentor_profile.pk])).status_code == 404
    assert client.get(reverse("mentor_detail", args=[lapsed.mentor_profile.pk])).status_code == 404
    assert client.get(reverse("mentor_detail", args=[shown.mentor_profile.pk])).status_code == 200


def test_search_filters_by_sector_expertise_language_country_and_availability(
    client, seeker, scheme, network, energy, rail, areas
):
    # R-MATCH-1
    french = Language.objects.get(code="fr")
    factories.listed_mentor(
        scheme, network, sector=energy, expertise=[areas[0]], role_title="Alpha", country="FR", languages=[french]
    )
    factories.listed_mentor(
        scheme, network, sector=rail, expertise=[areas[1]], role_title="Bravo", availability="paused"
    )
    client.force_login(seeker)

    def titles(**params):
        page = client.get(reverse("mentor_list"), params).content.decode()
        return {t for t in ("Alpha", "Bravo") if t in page}

    assert titles() == {"Alpha", "Bravo"}
    assert titles(sector=energy.pk) == {"Alpha"}
    assert titles(expertise=areas[1].pk) == {"Bravo"}
    assert titles(language=french.pk) == {"Alpha"}
    assert titles(country="FR") == {"Alpha"}
    assert titles(availability="paused") == {"Bravo"}
    assert titles(sector="not-a-number") == {"Alpha", "Bravo"}  # bad filter input is ignored, not a 500


def test_the_search_page_paginates(client, seeker, scheme, network):
    for _ in range(23):
        factories.listed_mentor(scheme, network)
    client.force_login(seeker)
    first = client.get(reverse("mentor_list")).content.decode()
    assert "23 mentors found" in first and "Page 1 of 2" in first
    assert client.get(reverse("mentor_list"), {"page": "999"}).status_code == 200
    assert client.get(reverse("mentor_list"), {"page": "x"}).status_code == 200


@pytest.mark.parametrize("count", [10, 200])
def test_the_search_page_query_count_does_not_grow_with_mentors(
    client, seeker, scheme, network, energy, areas, count, django_assert_max_num_queries
):
    # Query count independent of the number of mentors (10 and 200 give the same ceiling).
    factories.MenteeProfileFactory._meta.model.objects.filter(user=seeker).update(sector=energy)
    for i in range(count):
        factories.listed_mentor(scheme, network, sector=energy, expertise=areas[: 1 + i % 3])
    client.force_login(seeker)
    # Measured at 35 for both sizes: form choices, eligibility, search page, suggestions.
    # A fixed number whatever the size: the page, the bell, the mentor limit and the scheme banner.
    with django_assert_max_num_queries(38):
        response = client.get(reverse("mentor_list"))
    assert response.status_code == 200
    assert len(response.context["suggestions"]) == 5


def test_suggestions_come_with_reasons_in_words(client, seeker, scheme, network, energy, areas):
    # R-MATCH-1
    profile = seeker.mentee_profile
    profile.sector = energy
    profile.language = Language.objects.get(code="fr")
    profile.save()
    profile.expertise.set(areas)
    factories.listed_mentor(
        scheme,
        network,
        sector=energy,
        expertise=areas[:2],
        capacity=1,
        role_title="Best fit",
        languages=[Language.objects.get(code="fr")],
    )
    factories.listed_mentor(scheme, network, role_title="Weak fit")
    client.force_login(seeker)
    response = client.get(reverse("mentor_list"))
    best = response.context["suggestions"][0]
    assert best.role_title == "Best fit"
    assert best.reasons == ["same sector", "2 of your 3 areas", "speaks French", "1 place left"]
    assert "same sector, 2 of your 3 areas, speaks French, 1 place left" in response.content.decode()


def test_former_partners_and_recent_declines_are_not_suggested(seeker, scheme, network, no_conflict):
    # R-MATCH-7
    former = factories.listed_mentor(scheme, network, capacity=3)
    decliner = factories.listed_mentor(scheme, network)
    fresh = factories.listed_mentor(scheme, network)
    Pairing.objects.create(
        scheme=scheme,
        mentor=former,
        mentee=seeker,
        network=network,
        status="ended",
        end_reason="goals_met",
        ended_at=timezone.now(),
    )
    request = services.request_send(
        mentee=seeker, profile=decliner.mentor_profile, scheme=scheme, message="Hi", declaration=no_conflict
    )
    services.request_decline(request_id=request.pk, mentor=decliner, reason="Busy")
    suggested = {s.mentor_id for s in selectors.suggestions_for(seeker, scheme)}
    assert suggested == {fresh.pk}
    # After the cooling-off period the decliner may be suggested again.
    MentorshipRequest.objects.filter(pk=request.pk).update(
        responded_at=timezone.now() - selectors.DECLINE_COOLDOWN - datetime.timedelta(days=1)
    )
    assert {s.mentor_id for s in selectors.suggestions_for(seeker, scheme)} == {fresh.pk, decliner.pk}


def test_a_former_partner_can_still_be_asked_by_name(client, seeker, scheme, network):
    # R-MATCH-7: not suggested, but a request by name is allowed
    former = factories.listed_mentor(scheme, network)
    Pairing.objects.create(
        scheme=scheme,
        mentor=former,
        mentee=seeker,
        network=network,
        status="ended",
        end_reason="goals_met",
        ended_at=timezone.now(),
    )
    client.force_login(seeker)
    url = reverse("request_create", args=[former.mentor_profile.pk]) + f"?scheme={scheme.slug}"
    response = client.post(url, {"message": "Again?", "conflict_kind": "none", "conflict_manageable": "yes"})
    assert response.status_code == 302


def test_full_mentors_are_listed_but_not_suggested(client, seeker, scheme, network):
    full = factories.listed_mentor(scheme, network, capacity=1, role_title="Busy mentor")
    Pairing.objects.create(
        scheme=scheme, mentor=full, mentee=factories.eligible_mentee(scheme, network), network=network
    )
    client.force_login(seeker)
    response = client.get(reverse("mentor_list"))
    assert "Busy mentor" in response.content.decode()
    assert response.context["suggestions"] == []


def test_profiles_never_show_surname_or_email_and_carry_the_disclaimers(client, seeker, scheme, network):
    # R-PROFILE-1, R-PROFILE-2, R-PROFILE-4
    mentor = factories.listed_mentor(scheme, network, role_title="Chief engineer")
    client.force_login(seeker)
    for url in (reverse("mentor_list"), reverse("mentor_detail", args=[mentor.mentor_profile.pk])):
        page = client.get(url).content.decode()
        assert mentor.first_name in page
        assert mentor.last_name not in page and mentor.email not in page
    detail = client.get(reverse("mentor_detail", args=[mentor.mentor_profile.pk])).content.decode()
    assert "has not verified any member&#x27;s mentoring skills" in detail
    assert "at your own risk" in detail
    for field in ("Chief engineer", "Work history", "Expertise", "Languages", "Country and time zone", "Availability"):
        assert field in detail


def test_a_member_outside_the_scheme_cannot_see_its_profiles(client, scheme, network, dbs_scheme, documents):
    mentor = factories.listed_mentor(scheme, network)
    outsider = factories.eligible_mentee(dbs_scheme, network)
    client.force_login(outsider)
    assert client.get(reverse("mentor_detail", args=[mentor.mentor_profile.pk])).status_code == 404
    assert client.get(reverse("mentor_list"), {"scheme": scheme.slug}).status_code == 404


def test_an_unknown_scheme_in_the_address_is_404(client, seeker):
    client.force_login(seeker)
    assert client.get(reverse("mentor_list"), {"scheme": "no-such-scheme"}).status_code == 404


def test_an_ineligible_mentee_sees_why_before_requesting(client, seeker, scheme, network):
    # R-ELIG-6: the same engine explains every gated action
    seeker.membership_status = "lapsed"
    seeker.save()
    client.force_login(seeker)
    page = client.get(reverse("mentor_list"))
    assert "before you can send a request" in page.content.decode()
    assert "lapsed" in page.content.decode()


def test_the_listing_query_agrees_with_the_engine(documents, scheme, network):
    # One eligibility engine: the SQL listing and check() agree
    mentors = [factories.listed_mentor(scheme, network) for _ in range(4)]
    mentors[1].date_of_birth = timezone.localdate().replace(year=timezone.localdate().year - 17)
    mentors[1].save()
    mentors[2].training_records.filter(kind="mentor_training").delete()
    MentorProfile.objects.filter(user=mentors[3]).update(status="changes_requested")
    listed = set(services.listed_profiles(scheme).values_list("user_id", flat=True))
    checked = {m.pk for m in mentors if eligibility.check(m, scheme, "mentor").ok and m != mentors[3]}
    assert listed == checked == {mentors[0].pk}


def test_the_listing_index_sees_changes_at_once(seeker, scheme, network):
    # The in-memory index is rebuilt when a profile, pairing or eligibility record changes.
    first = factories.listed_mentor(scheme, network, capacity=1)
    assert [s.mentor_id for s in selectors.suggestions_for(seeker, scheme)] == [first.pk]
    second = factories.listed_mentor(scheme, network)
    assert {s.mentor_id for s in selectors.suggestions_for(seeker, scheme)} == {first.pk, second.pk}
    Pairing.objects.create(
        scheme=scheme, mentor=first, mentee=factories.eligible_mentee(scheme, network), network=network
    )
    assert [s.mentor_id for s in selectors.suggestions_for(seeker, scheme)] == [second.pk]
    second.training_records.all().delete()
    assert selectors.suggestions_for(seeker, scheme) == []


def test_suggestions_do_not_query_per_mentor(seeker, scheme, network, django_assert_max_num_queries):
    for _ in range(30):
        factories.listed_mentor(scheme, network)
    selectors.suggestions_for(seeker, scheme)  # builds the index
    with django_assert_max_num_queries(9):
        assert len(selectors.suggestions_for(seeker, scheme)) == 5


def test_a_sign_in_does_not_refresh_the_listing(client, seeker, scheme, network, monkeypatch):
    factories.listed_mentor(scheme, network)
    refreshed = []
    monkeypatch.setattr(listing, "refresh", lambda **kwargs: refreshed.append(kwargs))
    assert client.login(email=seeker.email, password=factories.PASSWORD)  # saves last_login
    assert refreshed == []
    factories.listed_mentor(scheme, network)
    assert refreshed
