"""Suggestions ranked over each process's copy of the listing (matching/ranking.py; issue 10 items 1 and 2,
R-MATCH-1): the same mentors, scores and order as `suggest.rank`, whatever mix of numbered, pending and removed
rows the copy meets, and the copy reads only what changed."""

import datetime
import random
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Language
from matching import listing, ranking, selectors, services
from matching.models import ListingRemoval, ListingState, MentorListing, MentorProfile
from matching.suggest import MenteeNeeds, mask_of, rank
from mentoring.models import Pairing
from tests import factories

FACTS = ["sector", "country", "capacity", "active_mentees", "availability"]
FACTS += ["expertise_bits", "expertise_mask", "language_bits", "language_mask", "revision"]


def users(ids):
    return get_user_model().objects.filter(pk__in=list(ids)).values("pk")


def top(scheme, needs, *, exclude=(), limit=8, only=None):
    return ranking.top(
        scheme.pk, needs, exclude=users(exclude), limit=limit, only=None if only is None else users(only)
    )


def expected(scheme, needs, *, exclude=(), limit=8, only=None):
    """`suggest.rank` over what the table holds now: the reference."""
    rows = MentorListing.objects.filter(scheme=scheme, availability="accepting")
    offers = [listing.offer_of(row) for row in rows if only is None or row.mentor_id in only]
    return [(s.mentor_id, s.score) for s in rank(needs, offers, limit=limit, exclude=set(exclude))]


def scored(scheme, needs, rows):
    return [(row.mentor_id, selectors.score(needs, listing.offer_of(row)).score) for row in rows]


def needs_strategy(area_ids, language_ids, sector_ids):
    return st.builds(
        MenteeNeeds,
        mentee_id=st.just(0),
        sector_id=st.one_of(st.none(), st.sampled_from(sector_ids)),
        expertise_mask=st.lists(st.sampled_from(area_ids), max_size=5).map(mask_of),
        language_id=st.one_of(st.none(), st.sampled_from(language_ids)),
        country=st.sampled_from(["", "GB", "FR"]),
    )


@pytest.fixture
def ranked_world(documents, scheme, network):
    sectors = [factories.SectorFactory(name=f"Sector {i}") for i in range(3)]
    areas = [factories.ExpertiseAreaFactory(name=f"Area {i}") for i in range(7)]
    for i in range(16):
        factories.listed_mentor(scheme, network, sector=sectors[i % 3], capacity=1 + i % 10)
    rows = {row.profile_id: row for row in MentorListing.objects.filter(scheme=scheme)}
    return scheme, sectors, areas, rows


def randomise(row, rng, sectors, area_ids, language_ids):
    row.sector_id = rng.choice(sectors).pk
    row.country = rng.choice(["GB", "FR", "DE"])
    row.capacity = rng.randint(1, 10)
    row.active_mentees = rng.randint(0, row.capacity)
    row.availability = rng.choice(["accepting", "accepting", "paused"])
    areas_held, languages_held = rng.sample(area_ids, rng.randint(0, 4)), rng.sample(language_ids, rng.randint(0, 3))
    row.expertise_bits, row.expertise_mask = listing.bits_of(areas_held), listing.small_mask(areas_held)
    row.language_bits, row.language_mask = listing.bits_of(languages_held), listing.small_mask(languages_held)
    row.revision = None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_ranking_gives_the_same_mentors_scores_and_order_as_suggest(ranked_world, data):
    # Issue 10 item 2: `suggest` is the reference. Each example changes the table straight (the ranking reads
    # nothing else) in three ways at once: rows numbered, which the process's copy takes in; rows rewritten and
    # removed but not numbered yet, which it must use for this request only; and removals numbered.
    scheme, sectors, areas, world = ranked_world
    area_ids = [a.pk for a in areas] + [63, 70, 130]  # ids of 63 and more are read from the text: some of both
    language_ids = [*Language.objects.values_list("pk", flat=True)[:6], 64, 99]
    rng = random.Random(data.draw(st.integers(0, 10_000)))
    present = set(MentorListing.objects.filter(scheme=scheme).values_list("profile_id", flat=True))
    missing = [world[pk] for pk in world if pk not in present]
    for row in missing:
        row.pk = None
    MentorListing.objects.bulk_create(missing)
    rows = list(MentorListing.objects.filter(scheme=scheme))
    for row in rows:
        randomise(row, rng, sectors, area_ids, language_ids)
    MentorListing.objects.bulk_update(rows, FACTS)
    listing.stamp(scheme.pk)  # numbered: the copy takes these in
    gone = rng.sample(rows, rng.randint(0, 3))
    MentorListing.objects.filter(pk__in=[row.pk for row in gone[:1]]).delete()
    listing.stamp(scheme.pk)  # one removal numbered
    MentorListing.objects.filter(pk__in=[row.pk for row in gone[1:]]).delete()  # removals pending
    pending = rng.sample([row for row in rows if row not in gone], rng.randint(0, 4))
    for row in pending:
        randomise(row, rng, sectors, area_ids, language_ids)
    MentorListing.objects.bulk_update(pending, FACTS)  # rewritten, not numbered
    assert MentorListing.objects.filter(scheme=scheme, revision=None).count() == len(pending)
    assert ListingRemoval.objects.filter(scheme_id=scheme.pk, revision=None).count() == len(gone[1:])

    needs = data.draw(needs_strategy(area_ids, language_ids, [s.pk for s in sectors]))
    mentor_ids = [row.mentor_id for row in rows]
    excluded = set(rng.sample(mentor_ids, rng.randint(0, 2)))
    only = set(rng.sample(mentor_ids, 10)) if rng.random() < 0.3 else None
    limit = rng.choice([1, 5, 8, 20])
    got = top(scheme, needs, exclude=excluded, limit=limit, only=only)
    assert scored(scheme, needs, got) == expected(scheme, needs, exclude=excluded, limit=limit, only=only)


def test_ties_go_to_the_lower_mentor_id_and_a_full_or_paused_mentor_is_never_suggested(ranked_world):
    scheme, sectors, _areas, _world = ranked_world
    rows = list(MentorListing.objects.filter(scheme=scheme).order_by("mentor_id"))
    for row in rows:  # all alike: every score equal
        row.sector_id, row.capacity, row.active_mentees, row.availability = sectors[0].pk, 2, 0, "accepting"
        row.expertise_bits = row.language_bits = ""
        row.expertise_mask = row.language_mask = 0
        row.country, row.revision = "GB", None
    rows[0].active_mentees = 2  # full
    rows[1].availability = "paused"
    MentorListing.objects.bulk_update(rows, FACTS)
    listing.stamp(scheme.pk)
    needs = MenteeNeeds(0, sectors[0].pk, 0, None, "GB")
    assert [row.mentor_id for row in top(scheme, needs, limit=3)] == [r.mentor_id for r in rows[2:5]]
    assert [row.mentor_id for row in top(scheme, needs, limit=3, exclude={rows[2].mentor_id})] == [
        r.mentor_id for r in rows[3:6]
    ]


# --- The copy reads what changed, and only that -----------------------------------------------------------------


@pytest.fixture
def counted_puts(monkeypatch):
    applied = []
    put = ranking.Copy.put

    def counting(self, rows):
        applied.extend(row[0] for row in rows)
        return put(self, rows)

    monkeypatch.setattr(ranking.Copy, "put", counting)
    return applied


def needs_of(seeker):
    return selectors.needs_for(seeker) or MenteeNeeds(seeker.pk, None, 0, None, "")


def test_a_change_to_one_mentor_is_one_row_read_by_the_copy_in_the_same_one_query(
    ranked_world, seeker, counted_puts, django_capture_on_commit_callbacks
):
    # Issue 10 item 1: a change to one mentor updates that mentor's row only; no request rebuilds anything
    scheme, _sectors, _areas, world = ranked_world
    listing.stamp(scheme.pk)
    needs = needs_of(seeker)
    top(scheme, needs)
    counted_puts.clear()
    with CaptureQueriesContext(connection) as queries:
        before = top(scheme, needs)
    assert len(queries) == 1 and counted_puts == []  # nothing changed: nothing read
    profile = MentorProfile.objects.get(pk=next(iter(world)))
    profile.capacity = 7
    with django_capture_on_commit_callbacks(execute=True):
        services.mentor_profile_save(profile=profile, expertise=profile.expertise.all(), languages=[])
    assert MentorListing.objects.get(profile=profile).revision == ListingState.objects.get(scheme=scheme).revision
    with CaptureQueriesContext(connection) as queries:
        after = top(scheme, needs)
    assert len(queries) == 1 and counted_puts == [profile.pk]
    assert scored(scheme, needs, after) == expected(scheme, needs) != [] and before


def test_a_removed_mentor_leaves_every_copy_and_a_rolled_back_write_never_lingers(
    ranked_world, seeker, django_capture_on_commit_callbacks
):
    scheme, _sectors, _areas, world = ranked_world
    listing.stamp(scheme.pk)
    needs = MenteeNeeds(seeker.pk, None, 0, None, "")
    everyone = {row.mentor_id for row in top(scheme, needs, limit=50)}
    assert len(everyone) == len(world)
    leaving = MentorListing.objects.filter(scheme=scheme).first()
    with django_capture_on_commit_callbacks(execute=True):
        leaving.delete()
    assert {row.mentor_id for row in top(scheme, needs, limit=50)} == everyone - {leaving.mentor_id}

    # Written and numbered inside a transaction that then rolls back: the copy had read it, and must let it go.
    row = MentorListing.objects.filter(scheme=scheme).first()
    with pytest.raises(RuntimeError), transaction.atomic():
        MentorListing.objects.filter(pk=row.pk).update(availability="paused", revision=None)
        assert listing.stamp(scheme.pk) == 1
        assert row.mentor_id not in {r.mentor_id for r in top(scheme, needs, limit=50)}
        raise RuntimeError("roll back")
    assert row.mentor_id in {r.mentor_id for r in top(scheme, needs, limit=50)}
    # Not numbered, then rolled back: used by that request only.
    with pytest.raises(RuntimeError), transaction.atomic():
        MentorListing.objects.filter(pk=row.pk).update(availability="paused", revision=None)
        assert row.mentor_id not in {r.mentor_id for r in top(scheme, needs, limit=50)}
        raise RuntimeError("roll back")
    assert row.mentor_id in {r.mentor_id for r in top(scheme, needs, limit=50)}


def test_a_copy_older_than_the_forgotten_removals_reads_the_scheme_again(ranked_world, seeker, counted_puts):
    scheme, _sectors, _areas, world = ranked_world
    listing.stamp(scheme.pk)
    needs = MenteeNeeds(seeker.pk, None, 0, None, "")
    top(scheme, needs, limit=50)
    # Another process removes a mentor; the removal is numbered, then forgotten before this copy reads it.
    leaving = MentorListing.objects.filter(scheme=scheme).first()
    leaving.delete()
    listing.stamp(scheme.pk)
    assert listing.forget_removals(now=timezone.now() + datetime.timedelta(days=2)) == 1
    counted_puts.clear()
    assert leaving.mentor_id not in {row.mentor_id for row in top(scheme, needs, limit=50)}
    assert len(counted_puts) == len(world) - 1  # read whole
    # A state made afresh (another epoch) also makes the copy read the scheme again.
    ListingState.objects.filter(scheme=scheme).update(epoch="another")
    counted_puts.clear()
    top(scheme, needs, limit=50)
    assert len(counted_puts) == len(world) - 1


def test_removals_are_kept_a_day_then_forgotten(ranked_world):
    scheme, _sectors, _areas, _world = ranked_world
    MentorListing.objects.filter(scheme=scheme).first().delete()
    listing.stamp(scheme.pk)
    assert listing.forget_removals() == 0
    assert listing.forget_removals(now=timezone.now() + listing.REMOVALS_KEPT + datetime.timedelta(minutes=1)) == 1
    assert ListingState.objects.get(scheme=scheme).forgotten == ListingState.objects.get(scheme=scheme).revision
    # A deleted scheme's removals are never numbered (it has no state left); they go after a day too.
    ListingRemoval.objects.create(scheme_id=-5, profile_id=1)
    listing.stamp(-5)
    assert ListingRemoval.objects.get(scheme_id=-5).revision is None
    assert listing.forget_removals(now=timezone.now() + listing.REMOVALS_KEPT + datetime.timedelta(minutes=1)) == 1
    assert not ListingRemoval.objects.exists()


def test_the_scheduled_refresh_numbers_what_a_lost_stamp_left(ranked_world, django_capture_on_commit_callbacks):
    scheme, _sectors, _areas, world = ranked_world
    assert MentorListing.objects.filter(scheme=scheme, revision=None).count() == len(world)  # nothing committed
    with django_capture_on_commit_callbacks(execute=True):
        listing.refresh_all()
    assert not MentorListing.objects.filter(scheme=scheme, revision=None).exists()


@pytest.mark.django_db(transaction=True)
def test_a_stamp_skips_rows_another_transaction_is_rewriting_and_never_waits_for_it(documents, scheme, network):
    # Persist, then number: a stamp must not block on (or deadlock with) a transaction still writing the
    # listing. That transaction's own stamp numbers its rows after it commits.
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: CI runs this in its PostgreSQL pass (DATABASE_URL)")
    first, second = (factories.listed_mentor(scheme, network) for _ in range(2))
    listing.stamp(scheme.pk)
    a, b = (MentorListing.objects.get(mentor=mentor) for mentor in (first, second))
    holding, release, done = threading.Event(), threading.Event(), threading.Event()

    def rewrite_a():
        try:
            with transaction.atomic():
                MentorListing.objects.filter(pk=a.pk).update(capacity=9, revision=None)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    worker = threading.Thread(target=rewrite_a)
    worker.start()
    assert holding.wait(10)
    MentorListing.objects.filter(pk=b.pk).update(capacity=8, revision=None)
    MentorListing.objects.filter(pk=a.pk, revision__isnull=False).exists()
    assert listing.stamp(scheme.pk) == 1  # b numbered; a, locked by the worker, skipped at once
    release.set()
    assert done.wait(10)
    worker.join()
    assert MentorListing.objects.get(pk=a.pk).revision is None
    assert listing.stamp(scheme.pk) == 1  # what the worker's own stamp does after its commit
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.revision > b.revision == ListingState.objects.get(scheme=scheme).revision - 1


def test_a_copy_scores_as_suggest_through_growth_removals_reused_slots_and_wide_ids():
    # No database: the copy alone, put and removed in many small steps, against `suggest.score` row by row.
    rng = random.Random(5)
    copy, held = ranking.Copy(), {}
    for step in range(300):
        if held and rng.random() < 0.3:
            profile_id = rng.choice(list(held))
            copy.remove(profile_id)
            del held[profile_id]
            continue
        profile_id = rng.randint(1, 150)
        capacity = rng.randint(0, 5)
        wide = step > 150  # ids past 64, then past 128: the sets get wider as the copy goes
        areas = rng.sample(range(1, 200 if wide else 40), rng.randint(0, 3))
        languages = rng.sample(range(1, 140 if wide else 20), rng.randint(0, 2))
        values = (profile_id, 1000 + profile_id, "A", "B", rng.randint(1, 3), rng.choice(["GB", "FR", ""]))
        values += (rng.choice(["accepting", "paused"]), capacity, rng.randint(0, capacity))
        values += (listing.bits_of(areas), listing.bits_of(languages), 0, 0)
        copy.put([values])
        held[profile_id] = MentorListing(scheme_id=1, **dict(zip(ranking.FIELDS, values, strict=True)))
    assert copy.size <= 150 and len(copy.slot) == len(held)
    for _ in range(40):
        needs = MenteeNeeds(
            0,
            rng.choice([None, 1, 2]),
            mask_of(rng.sample(range(1, 200), rng.randint(0, 4))),
            rng.choice([None, 3, 70, 139]),
            rng.choice(["", "GB"]),
        )
        totals = copy.totals(needs)
        for profile_id, row in held.items():
            assert round(float(totals[copy.slot[profile_id]]), 4) == selectors.score(needs, listing.offer_of(row)).score
        open_mentors = {row.mentor_id for row in held.values() if listing.offer_of(row).free_places > 0}
        open_mentors -= {row.mentor_id for row in held.values() if row.availability != "accepting"}
        assert {int(m) for m in copy.mentor[: copy.size][copy.open[: copy.size]]} == open_mentors


def test_the_compiled_exclusions_are_the_querys_own_for_every_mentee(documents, scheme, dbs_scheme, network):
    # R-MATCH-7: `excluded_mentor_sql` is `excluded_mentor_ids` compiled once; for each mentee and scheme it must
    # name exactly the mentors `excluded_mentors` does (partners anywhere, pending and recent declines here).
    mentors = [factories.listed_mentor(scheme, network) for _ in range(5)]
    mentees = [factories.eligible_mentee(scheme, network) for _ in range(3)]
    now = timezone.now()
    Pairing.objects.create(scheme=dbs_scheme, mentor=mentors[0], mentee=mentees[0], network=network, status="ended")
    for mentor, status, days in [
        (mentors[1], "pending", None),
        (mentors[2], "declined", 10),
        (mentors[3], "declined", 400),
    ]:
        factories.MentorshipRequestFactory(
            mentee=mentees[0],
            mentor=mentor,
            scheme=scheme,
            status=status,
            responded_at=None if days is None else now - datetime.timedelta(days=days),
        )
    factories.MentorshipRequestFactory(mentee=mentees[1], mentor=mentors[4], scheme=dbs_scheme, status="pending")
    for mentee in mentees:
        for where in (scheme, dbs_scheme):
            sql, params = selectors.excluded_mentor_sql(mentee.pk, where.pk, now=now)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                got = {row[0] for row in cursor.fetchall()}
            assert got == selectors.excluded_mentors(mentee, where, now=now)
    assert selectors.excluded_mentors(mentees[0], scheme, now=now) == {mentees[0].pk, *(m.pk for m in mentors[:3])}
