"""The listing table: derived from the one eligibility engine, kept in line by every write (issue 10 items 1
and 2; R-PROFILE-3, R-ELIG-6, R-MATCH-1). Ranking over it: tests/matching/test_ranking.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Language
from matching import listing, selectors, services
from matching.models import MenteeProfile, MentorListing, MentorProfile
from matching.suggest import mask_of
from mentoring.models import Pairing, Role, SchemeMembership
from safeguarding.models import DBSCheck, TrainingRecord
from tests import factories

COLUMNS = ("mentor_id", *listing.COLUMNS[1:])
FACTS = ["sector", "country", "capacity", "active_mentees", "availability"]
FACTS += ["expertise_bits", "expertise_mask", "language_bits", "language_mask"]


def table(scheme) -> dict[int, tuple]:
    rows = MentorListing.objects.filter(scheme=scheme).values_list("profile_id", *COLUMNS)
    return {row[0]: row[1:] for row in rows}


def engine(scheme) -> dict[int, tuple]:
    """What the engine says the table should hold, computed afresh (listed_profiles, with places)."""
    return {pk: tuple(getattr(row, c) for c in COLUMNS) for pk, row in listing._desired(scheme, None).items()}


def assert_agrees(*schemes):
    for scheme in schemes:
        assert table(scheme) == engine(scheme)
        assert set(MentorListing.objects.filter(scheme=scheme).values_list("mentor_id", flat=True)) == set(
            listing.listed_profiles(scheme).values_list("user_id", flat=True)
        )


@pytest.fixture
def mentors(documents, scheme, dbs_scheme, network):
    areas = [factories.ExpertiseAreaFactory(name=f"Area {i}") for i in range(3)]
    people = [factories.listed_mentor(scheme, network, expertise=areas[: i % 3 + 1], capacity=2) for i in range(4)]
    factories.MembershipFactory(user=people[0], scheme=dbs_scheme, network=network, role=Role.MENTOR)
    factories.DBSCheckFactory(user=people[0])
    return people


def test_every_kind_of_write_keeps_the_table_in_line_with_the_engine(mentors, scheme, dbs_scheme, network):
    # Issue 10 item 1: derived from the one set of rules, after each write that can change a listing
    first, second, third, fourth = mentors
    assert_agrees(scheme, dbs_scheme)
    assert len(table(scheme)) == 4 and len(table(dbs_scheme)) == 1
    steps = [
        lambda: services_profile(first, status=MentorProfile.Status.CHANGES_REQUESTED),
        lambda: services_profile(first, status=MentorProfile.Status.APPROVED, availability="paused"),
        lambda: second.mentor_profile.expertise.clear(),
        lambda: second.mentor_profile.languages.add(Language.objects.get(code="fr")),
        lambda: Pairing.objects.create(
            scheme=scheme, mentor=third, mentee=factories.eligible_mentee(scheme, network), network=network
        ),
        lambda: Pairing.objects.get(mentor=third).delete(),
        lambda: save(SchemeMembership.objects.get(user=fourth, scheme=scheme), status="paused"),
        lambda: save(SchemeMembership.objects.get(user=fourth, scheme=scheme), status="active"),
        lambda: save(fourth, membership_status="lapsed"),
        lambda: save(fourth, membership_status="active", first_name="Renamed"),
        lambda: TrainingRecord.objects.filter(user=second).first().delete(),
        lambda: DBSCheck.objects.filter(user=first).first().delete(),
        lambda: factories.DBSCheckFactory(user=first),
        lambda: save(dbs_scheme, dbs_recheck_years=1),
        lambda: factories.TermsVersionFactory(kind="terms", version="2027.1"),  # nobody has accepted it yet
        lambda: factories.accept_current_documents(first),
    ]
    for step in steps:
        step()
        assert_agrees(scheme, dbs_scheme)
    assert len(table(scheme)) == 1  # only `first` accepted the new terms


def services_profile(user, **fields):
    profile = MentorProfile.objects.get(user=user)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.save()


def save(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


def test_a_change_to_one_mentor_rewrites_that_mentors_row_only(mentors, scheme):
    # Issue 10 item 1: no whole rebuild; nothing else differs afterwards
    before = table(scheme)
    profile = mentors[1].mentor_profile
    profile.role_title = "Chief engineer"
    with CaptureQueriesContext(connection) as captured:
        profile.save()
    writes = [
        q["sql"] for q in captured.captured_queries if "matching_mentorlisting" in q["sql"] and "INSERT" in q["sql"]
    ]
    assert len(writes) == 1
    after = table(scheme)
    assert {pk for pk in before if before[pk] != after[pk]} == {profile.pk}
    assert listing.refresh_all([scheme]) == 0  # the signal already wrote everything there was


def test_saves_inside_a_batch_refresh_once_at_its_end(mentors, scheme, dbs_scheme, network):
    # Seeding and imports make many saves per mentor: the table is brought in line once, when the block ends.
    profile = mentors[1].mentor_profile
    with listing.batched():
        profile.role_title = "Chief engineer"
        profile.save()
        newcomer = factories.listed_mentor(scheme, network)
        with CaptureQueriesContext(connection) as inside:
            profile.capacity = 3
            profile.save()
        assert not [q for q in inside.captured_queries if "matching_mentorlisting" in q["sql"]]
        assert MentorListing.objects.get(scheme=scheme, profile=profile).role_title != "Chief engineer"
        assert not MentorListing.objects.filter(mentor=newcomer).exists()
    assert_agrees(scheme, dbs_scheme)
    row = MentorListing.objects.get(scheme=scheme, profile=profile)
    assert (row.role_title, row.capacity) == ("Chief engineer", 3)
    assert MentorListing.objects.filter(scheme=scheme, mentor=newcomer).exists()


def test_a_batch_that_fails_refreshes_nothing(mentors, scheme):
    profile = mentors[1].mentor_profile
    with pytest.raises(RuntimeError), listing.batched():
        profile.role_title = "Chief engineer"
        profile.save()
        raise RuntimeError("the import failed")
    assert MentorListing.objects.get(scheme=scheme, profile=profile).role_title != "Chief engineer"
    assert not listing._batch.open()  # later saves refresh at once again
    profile.save()
    assert MentorListing.objects.get(scheme=scheme, profile=profile).role_title == "Chief engineer"


def test_what_only_the_date_changes_is_caught_by_the_scheduled_refresh(mentors, scheme):
    # A course expiring at midnight is not a save: the scheduled job (every 15 minutes) catches it.
    lapsed = mentors[2]
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    TrainingRecord.objects.filter(user=lapsed).update(expires_on=yesterday)  # as if the date had passed
    assert lapsed.pk in {row[0] for row in table(scheme).values()}
    assert listing.refresh_all() == 1
    assert_agrees(scheme)
    assert lapsed.pk not in {row[0] for row in table(scheme).values()}


def test_a_scheme_is_built_on_its_first_read_after_a_deployment(mentors, scheme, seeker):
    MentorListing.objects.all().delete()
    listing.ListingState.objects.all().delete()
    listing.cache.clear()
    assert len(selectors.suggestions_for(seeker, scheme)) == 4
    assert_agrees(scheme)


# --- Sets of ids ------------------------------------------------------------------------------------------------


def test_bits_hold_any_id():
    assert listing.bits_of([2, 4]) == "0101"
    assert listing.ids_in(listing.bits_of({1, 70, 300})) == [1, 70, 300]
    assert listing.bits_of([]) == ""


# --- The page --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 120])
def test_the_find_a_mentor_page_runs_at_most_ten_queries_whatever_the_number_of_mentors(
    client, seeker, scheme, network, count, django_assert_max_num_queries
):
    # Issue 10 item 2: constant in the number of mentors and at most 10, with and without filters
    sector = factories.SectorFactory(name="Energy")
    area = factories.ExpertiseAreaFactory(name="Power systems")
    for i in range(count):
        factories.listed_mentor(scheme, network, sector=sector, expertise=[area] if i % 2 else [], country="GB")
    client.force_login(seeker)
    client.get(reverse("mentor_list"))  # the first read of the day: names and documents come from the cache after
    with django_assert_max_num_queries(10):
        response = client.get(reverse("mentor_list"))
    assert response.status_code == 200 and len(response.context["suggestions"]) == 5
    assert f"{count} mentors found" in response.content.decode()
    filters = {"sector": sector.pk, "expertise": area.pk, "language": Language.objects.get(code="en").pk}
    with django_assert_max_num_queries(10):
        response = client.get(reverse("mentor_list"), filters | {"country": "GB"})
    assert response.status_code == 200
    assert f"{count // 2} mentors found" in response.content.decode()


def test_a_page_past_the_end_shows_the_last_page_and_a_bad_number_the_first(client, seeker, scheme, network):
    for _ in range(25):
        factories.listed_mentor(scheme, network)
    client.force_login(seeker)
    last = client.get(reverse("mentor_list"), {"page": "99"})
    assert "Page 2 of 2" in last.content.decode() and len(last.context["cards"]) == 5
    first = client.get(reverse("mentor_list"), {"page": "-3"})
    assert "Page 1 of 2" in first.content.decode() and len(first.context["cards"]) == 20


def test_the_search_filters_read_the_listing(client, seeker, scheme, network):
    services.listed_profiles(scheme)  # the engine stays the definition; the page reads the table
    french = Language.objects.get(code="fr")
    shown = factories.listed_mentor(scheme, network, languages=[french], role_title="Speaks French")
    factories.listed_mentor(scheme, network, role_title="English only")
    client.force_login(seeker)
    page = client.get(reverse("mentor_list"), {"language": french.pk}).content.decode()
    assert "Speaks French" in page and "English only" not in page
    assert f'href="{reverse("mentor_detail", args=[shown.mentor_profile.pk])}' in page


def test_the_search_pages_goals_agree_with_the_profile_and_the_active_pairings(documents, scheme, network):
    """R-MATCH-1, R-MATCH-8: `mentee_goals` (plain SQL, every search page) reads what `needs_for` and
    `Pairing.objects.active()` say, with and without goals, counting only this scheme's active pairings."""
    other_scheme = factories.SchemeFactory(slug="other")
    no_goals = factories.eligible_mentee(scheme, network, goals=False)
    assert selectors.mentee_goals(no_goals, scheme) == selectors.MenteeGoals(None, 0)

    mentee = factories.eligible_mentee(scheme, network)
    profile = MenteeProfile.objects.get(user=mentee)
    areas = [factories.ExpertiseAreaFactory(name=f"Area {i}") for i in range(3)]
    profile.expertise.set(areas[:2])
    profile.sector = factories.SectorFactory(name="Rail")
    profile.language = Language.objects.first()
    profile.country = "GB"
    profile.save()
    for status, in_scheme in [
        (Pairing.Status.ACTIVE, scheme),
        (Pairing.Status.ACTIVE, scheme),
        (Pairing.Status.ENDED, scheme),
        (Pairing.Status.ACTIVE, other_scheme),
    ]:
        Pairing.objects.create(
            scheme=in_scheme, network=network, mentee=mentee, mentor=factories.UserFactory(), status=status
        )
    goals = selectors.mentee_goals(mentee, scheme)
    assert goals.needs == selectors.needs_for(mentee)
    assert goals.needs.country == "GB" and goals.needs.expertise_mask == mask_of(a.pk for a in areas[:2])
    assert goals.active_mentors == Pairing.objects.active().filter(mentee=mentee, scheme=scheme).count() == 2
    assert selectors.mentee_goals(mentee, other_scheme).active_mentors == 1
