"""Who is listed, kept in a table that requests read in a few milliseconds (R-PROFILE-3, R-ELIG-6, R-MATCH-1).

`listed_profiles` is the one definition of a listed mentor: an approved profile whose mentor the
eligibility engine finds eligible today. The table `MentorListing` is derived from it and from
nothing else:

- `refresh(mentor_ids=...)` recomputes those mentors' rows in every scheme they take part in. The
  signals in matching/signals.py call it on every save of something a listing depends on, inside the
  same transaction, so a change to one mentor rewrites that mentor's rows only, and a rolled-back
  change leaves the table as it was.
- `refresh_all()` recomputes whole schemes, writing only the rows that differ. A listing also changes
  as days pass (a DBS check or a membership expires at midnight where the mentor lives), so the
  scheduler runs it (`refresh-mentor-listings` in CELERY_BEAT_SCHEDULE, every 15 minutes); a change
  of terms or of a scheme's rules calls it too.

Requests only read the table (search, suggestions, the cards): no request rebuilds anything.
tests/matching/test_listing_table.py proves the table agrees with `listed_profiles` after each kind of write.

Each process also keeps a copy of the columns suggestions rank on (matching/ranking.py), and reads only what
changed since its last request. A written row's `revision` is left empty; once its transaction has committed,
`stamp` numbers the scheme's unnumbered rows and removals (`ListingRemoval`, written when a row is deleted)
with the scheme's next revision, one stamp at a time under a lock on the scheme's `ListingState`, so revisions
become visible in the order they are numbered and a copy that has read up to revision r has missed nothing
numbered up to r.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Substr
from django.db.models.lookups import Exact
from django.utils import timezone
from django_countries import countries

from accounts.models import Language
from matching.models import ExpertiseArea, ListingRemoval, ListingState, MentorListing, MentorProfile, Sector
from matching.suggest import MentorOffer, Names, mask_of
from mentoring.derived import Batch
from mentoring.models import Role, Scheme
from mentoring.selectors import active_mentees_column
from mentoring.shared_version import SharedAnswer, SharedVersion, local_memo
from safeguarding import eligibility, eligible_table

# The listing's columns a refresh compares and writes (besides the keys).
COLUMNS = (
    "mentor_id",
    "first_name",
    "role_title",
    "sector_id",
    "country",
    "availability",
    "capacity",
    "active_mentees",
    "expertise_bits",
    "language_bits",
    "expertise_mask",
    "language_mask",
)
MASK_IDS = 63  # ids below this are also bits of the *_mask integers (a signed 64-bit column)


def listed_profiles(scheme: Scheme, *, today: datetime.date | None = None):
    """Mentor profiles mentees of `scheme` may see: approved, and the mentor eligible today (R-PROFILE-3)."""
    return MentorProfile.objects.filter(
        status=MentorProfile.Status.APPROVED,
        user__in=eligibility.eligible_users(scheme, Role.MENTOR, today=today),
    )


def with_places(profiles):
    """Annotate each profile with its active mentee count (one query, not one per profile)."""
    return profiles.annotate(active_mentees=active_mentees_column("user"))


def id_sets(profile_ids: list[int]) -> tuple[defaultdict[int, set], defaultdict[int, set]]:
    """Each profile's expertise area ids and language ids, in two queries (none for no profiles)."""
    expertise, languages = defaultdict(set), defaultdict(set)
    if profile_ids:
        for profile_id, area_id in MentorProfile.expertise.through.objects.filter(
            mentorprofile_id__in=profile_ids
        ).values_list("mentorprofile_id", "expertisearea_id"):
            expertise[profile_id].add(area_id)
        for profile_id, language_id in MentorProfile.languages.through.objects.filter(
            mentorprofile_id__in=profile_ids
        ).values_list("mentorprofile_id", "language_id"):
            languages[profile_id].add(language_id)
    return expertise, languages


def load_offers(scheme: Scheme) -> dict[int, MentorOffer]:
    """Every listed, accepting mentor of `scheme` as plain data, keyed by mentor id, fresh from the engine.

    Cohort matching reads this rather than the table, so it sees every place exactly as it is now.
    """
    profiles = with_places(listed_profiles(scheme).filter(availability=MentorProfile.Availability.ACCEPTING))
    rows = list(profiles.values_list("pk", "user_id", "sector_id", "country", "capacity", "active_mentees"))
    expertise, languages = id_sets([row[0] for row in rows])
    return {
        user_id: MentorOffer(
            mentor_id=user_id,
            sector_id=sector_id,
            expertise_mask=mask_of(expertise[pk]),
            language_mask=mask_of(languages[pk]),
            country=str(country),
            capacity=capacity,
            free_places=max(capacity - active, 0),
        )
        for pk, user_id, sector_id, country, capacity, active in rows
    }


# --- Sets of ids as strings of "0"/"1" ---------------------------------------------------------


def bits_of(ids: Iterable[int]) -> str:
    """ "0"/"1" characters where position n (from 1) says whether id n is in `ids`: {2, 4} -> "0101"."""
    ids = set(ids)
    return "".join("1" if n in ids else "0" for n in range(1, max(ids, default=0) + 1))


def ids_in(bits: str) -> list[int]:
    return [n for n, flag in enumerate(bits, start=1) if flag == "1"]


def small_mask(ids: Iterable[int]) -> int:
    """The ids below MASK_IDS as bits of one integer (bit n = id n)."""
    return sum(1 << n for n in set(ids) if 0 < n < MASK_IDS)


def has_id(column: str, pk: int):
    """Rows whose id set `column` ("expertise" or "language") holds `pk`, the same on SQLite and PostgreSQL."""
    if pk < MASK_IDS:
        return Exact(F(f"{column}_mask").bitand(1 << pk), 1 << pk)
    return Exact(Substr(f"{column}_bits", pk, 1), "1")


# --- Keeping the table in line with the engine ----------------------------------------------------


def _desired(scheme: Scheme, mentor_ids: list[int] | None) -> dict[int, MentorListing]:
    """The rows `listed_profiles` says `scheme` should have (for these mentors, or all), keyed by profile."""
    profiles = with_places(listed_profiles(scheme))
    if mentor_ids is not None:
        profiles = profiles.filter(user_id__in=mentor_ids)
    rows = list(
        profiles.values_list(
            "pk",
            "user_id",
            "user__first_name",
            "role_title",
            "sector_id",
            "country",
            "availability",
            "capacity",
            "active_mentees",
        )
    )
    expertise, languages = id_sets([row[0] for row in rows])
    return {
        pk: MentorListing(
            scheme=scheme,
            profile_id=pk,
            mentor_id=user_id,
            first_name=first_name,
            role_title=role_title,
            sector_id=sector_id,
            country=str(country or ""),
            availability=availability,
            capacity=capacity,
            active_mentees=active,
            expertise_bits=bits_of(expertise[pk]),
            language_bits=bits_of(languages[pk]),
            expertise_mask=small_mask(expertise[pk]),
            language_mask=small_mask(languages[pk]),
        )
        for pk, user_id, first_name, role_title, sector_id, country, availability, capacity, active in rows
    }


def _refresh_scheme(scheme: Scheme, mentor_ids: list[int] | None) -> int:
    """Write the rows of `scheme` that differ from what the engine says; delete the ones it no longer lists.
    Returns how many rows were written or deleted."""
    desired = _desired(scheme, mentor_ids)
    current = MentorListing.objects.filter(scheme=scheme)
    if mentor_ids is not None:
        current = current.filter(mentor_id__in=mentor_ids)
    existing = {row["profile_id"]: row for row in current.values("profile_id", *COLUMNS)}
    changed = [  # in profile order, so concurrent refreshes lock rows in the same order
        row
        for pk, row in sorted(desired.items())
        if pk not in existing or any(getattr(row, c) != existing[pk][c] for c in COLUMNS)
    ]
    if changed:
        MentorListing.objects.bulk_create(
            changed,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["scheme", "profile"],
            update_fields=[*(c.removesuffix("_id") for c in COLUMNS), "revision"],  # numbered after commit
        )
    gone = [pk for pk in existing if pk not in desired]
    if gone:
        MentorListing.objects.filter(scheme=scheme, profile_id__in=gone).delete()  # each leaves a removal
    if changed:
        counts_changed(scheme.pk)
        stamp_after_commit(scheme.pk)
    return len(changed) + len(gone)


def stamp_after_commit(scheme_id: int) -> None:
    """Number the scheme's changes once the transaction writing them has committed (at once outside one)."""
    transaction.on_commit(lambda: stamp(scheme_id), robust=True)


def stamp(scheme_id: int) -> int:
    """Give the scheme's committed, unnumbered rows and removals its next revision; returns how many.

    Stamps of a scheme take turns on its `ListingState` row, so each commits before the next is numbered. Rows
    another transaction is rewriting are skipped (SKIP LOCKED), never waited for: that transaction stamps them
    after it commits, and the scheduled refresh stamps whatever a stamp that never ran left behind.
    """
    with transaction.atomic():
        state = ListingState.objects.select_for_update().filter(scheme_id=scheme_id).first()
        if state is None:
            if not Scheme.objects.filter(pk=scheme_id).exists():
                return 0  # deleted with its listing
            state, _ = ListingState.objects.select_for_update().get_or_create(scheme_id=scheme_id)
        unnumbered = {"scheme_id": scheme_id, "revision": None}
        rows = list(
            MentorListing.objects.select_for_update(skip_locked=True).filter(**unnumbered).values_list("pk", flat=True)
        )
        removals = list(
            ListingRemoval.objects.select_for_update(skip_locked=True).filter(**unnumbered).values_list("pk", flat=True)
        )
        if not rows and not removals:
            return 0
        state.revision += 1
        MentorListing.objects.filter(pk__in=rows).update(revision=state.revision)
        ListingRemoval.objects.filter(pk__in=removals).update(revision=state.revision)
        state.save(update_fields=["revision"])
    return len(rows) + len(removals)


def row_deleted(row: MentorListing) -> None:
    """A listing row went (a refresh, or with its profile or mentor): leave a removal for the copies."""
    ListingRemoval.objects.create(scheme_id=row.scheme_id, profile_id=row.profile_id)
    counts_changed(row.scheme_id)
    stamp_after_commit(row.scheme_id)


REMOVALS_KEPT = datetime.timedelta(days=1)


def forget_removals(*, now: datetime.datetime | None = None) -> int:
    """Delete numbered removals older than REMOVALS_KEPT; a copy that has not read them since reads its scheme's
    listing again (`ListingState.forgotten`). Removals of a deleted scheme (never numbered: it has no state)
    go too. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - REMOVALS_KEPT
    old = ListingRemoval.objects.filter(removed_at__lt=cutoff, revision__isnull=False)
    tops = dict(old.values_list("scheme_id").annotate(top=Max("revision")).order_by())
    for scheme_id, top in tops.items():
        ListingState.objects.filter(scheme_id=scheme_id, forgotten__lt=top).update(forgotten=top)
    deleted, _ = old.delete()
    orphans, _ = (
        ListingRemoval.objects.filter(removed_at__lt=cutoff).exclude(scheme_id__in=Scheme.objects.values("pk")).delete()
    )
    return deleted + orphans


@contextmanager
def batched() -> Iterator[None]:
    """Refresh once, at the end, for all the saves made inside (seeding, imports, test factories): see
    mentoring/derived.py. Making one listed mentor saves a user, a membership, acceptances, records and a
    profile; each save would refresh that mentor again. The table of eligible memberships follows the same
    saves, so it is batched too."""
    with _batch.block(), eligible_table.batched():
        yield


def refresh(*, mentor_ids: Iterable[int]) -> int:
    """Bring these mentors' rows in every scheme in line with the engine (called on each relevant save)."""
    mentor_ids = sorted({int(pk) for pk in mentor_ids if pk is not None})
    if not mentor_ids:
        return 0
    if _batch.noted_members(mentor_ids):
        return 0
    # Without a profile a member is listed nowhere and has no rows: one cheap query instead of the engine's
    # (most saves concern such members: sign-up, a mentee's records, a mentor's before their profile exists).
    if not MentorProfile.objects.filter(user_id__in=mentor_ids).exists():
        return 0
    schemes = Scheme.objects.filter(
        Q(memberships__user_id__in=mentor_ids, memberships__role=Role.MENTOR)
        | Q(pk__in=MentorListing.objects.filter(mentor_id__in=mentor_ids).values("scheme_id"))
    ).distinct()
    return sum(_refresh_scheme(scheme, mentor_ids) for scheme in schemes)


def refresh_all(schemes: Iterable[Scheme] | None = None) -> int:
    """Bring whole schemes (default: every scheme) in line with the engine, writing only what differs."""
    if _batch.noted_schemes(schemes):
        return 0
    return _refresh_schemes(schemes)


_batch = Batch("listing_pending", refresh_members=lambda ids: refresh(mentor_ids=ids), refresh_schemes=refresh_all)


def _refresh_schemes(schemes: Iterable[Scheme] | None) -> int:
    # With no mentor profile anywhere nothing is listed and no row exists: skip the engine's query.
    anyone = MentorProfile.objects.exists()
    written = 0
    for scheme in Scheme.objects.all() if schemes is None else schemes:
        written += _refresh_scheme(scheme, None) if anyone else 0
        ListingState.objects.update_or_create(scheme=scheme, defaults={"refreshed_at": timezone.now()})
        stamp_after_commit(scheme.pk)  # also whatever an earlier stamp that never ran left unnumbered
        cache.set(_listed_key(scheme), True, None)
    return written


def _listed_key(scheme: Scheme) -> str:
    return f"matching:listing-built:{scheme.pk}"


_built_here = local_memo()  # schemes this process has seen built: never asked again


def ensure_built(scheme: Scheme) -> None:
    """Build a scheme's listing the first time it is read (a new deployment with mentors already in it).

    Asked of this process's memory, then of the shared cache, so a request reads no table for it; from
    then on the signals and the scheduled refresh keep the table current.
    """
    if scheme.pk in _built_here:
        return
    if not cache.get(_listed_key(scheme)):
        if ListingState.objects.filter(scheme=scheme, refreshed_at__isnull=False).exists():
            cache.set(_listed_key(scheme), True, None)
        else:
            _refresh_schemes([scheme])  # now, even inside `batched`: the caller reads it next
    _built_here.add(scheme.pk)


# --- Reading it -------------------------------------------------------------------------------------------


def search(scheme: Scheme, *, sector=None, expertise=None, language=None, country="", availability=""):
    """Listed mentors of `scheme` filtered as the search form asks (sector, area and language by id), by first name."""
    rows = MentorListing.objects.filter(scheme=scheme)
    if sector:
        rows = rows.filter(sector_id=sector)
    if expertise:
        rows = rows.filter(has_id("expertise", expertise))
    if language:
        rows = rows.filter(has_id("language", language))
    if country:
        rows = rows.filter(country=country)
    if availability:
        rows = rows.filter(availability=availability)
    return rows.order_by("first_name", "profile_id")


@dataclass
class ListingPage:
    """One page of a search, 1-based, with the number of rows in all."""

    rows: list
    number: int
    count: int
    per_page: int

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    def has_other_pages(self) -> bool:
        return self.num_pages > 1

    def has_previous(self) -> bool:
        return self.number > 1

    def has_next(self) -> bool:
        return self.number < self.num_pages

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1


MAX_PAGE = 100_000  # a larger number reads as past the end; an offset must fit the database's integers
_listed_counts = SharedAnswer("matching:listed-count", timeout=300)


def counts_changed(scheme_id: int) -> None:
    """A new cached count for the scheme from now and after commit: no process keeps one read before the change.
    Called for every row written here, and for every row deleted however (matching/signals.py)."""
    _listed_counts.changed(scheme_id)


def page_of(rows, number, *, per_page: int = 20, scheme: Scheme | None = None) -> ListingPage:
    """Page `number` of `rows` (a bad number reads as 1; past the end, the last page).

    The page is read through the (scheme, first name) index, 20 rows whatever the size. The count is one
    COUNT; with `scheme` (the unfiltered listing) it comes from the shared cache, which every write to the
    scheme's listing clears, so most pages run the one query.
    """
    try:
        number = min(max(int(number), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    total = rows.count() if scheme is None else _listed_counts.get(rows.count, scheme.pk)
    number = min(number, max(1, -(-total // per_page)))
    start = (number - 1) * per_page
    return ListingPage(list(rows[start : start + per_page]), number, total, per_page)


def offer_of(row: MentorListing) -> MentorOffer:
    return MentorOffer(
        mentor_id=row.mentor_id,
        sector_id=row.sector_id,
        expertise_mask=mask_of(ids_in(row.expertise_bits)),
        language_mask=mask_of(ids_in(row.language_bits)),
        country=row.country,
        capacity=row.capacity,
        free_places=max(row.capacity - row.active_mentees, 0),
    )


def with_free_places(scheme: Scheme):
    """Listing rows of `scheme` whose mentor is accepting mentees and has a free place."""
    return MentorListing.objects.filter(
        scheme=scheme, availability=MentorProfile.Availability.ACCEPTING, active_mentees__lt=F("capacity")
    )


# --- Words for ids -------------------------------------------------------------------------------------------

NAMES_VERSION = SharedVersion("matching:names-version")
_names_cache: dict[str, tuple[str, Names]] = {}


def names_changed() -> None:
    NAMES_VERSION.bump()


def names() -> Names:
    """Sector, language, expertise and country names: reference data, read once per process and change."""
    version = NAMES_VERSION.current()
    cached = _names_cache.get("names")
    if cached and cached[0] == version:
        return cached[1]
    value = Names(
        sectors=dict(Sector.objects.values_list("pk", "name")),
        languages=dict(Language.objects.values_list("pk", "name")),
        countries={code: str(name) for code, name in countries},  # plain strings: no lazy lookups per page
        areas=dict(ExpertiseArea.objects.values_list("pk", "name")),
    )
    _names_cache["names"] = (version, value)
    return value


@dataclass
class MentorCard:
    """What a mentor's card shows, read from the listing row and the names (no further query)."""

    pk: int  # the profile's id, for its link
    mentor_id: int
    first_name: str
    role_title: str
    sector: str
    areas: list[str]
    languages: list[str]
    country: str
    availability: str
    active_mentees: int
    capacity: int
    reasons: list[str] = field(default_factory=list)


def card_of(row: MentorListing, lookup: Names, reasons: list[str] | None = None) -> MentorCard:
    return MentorCard(
        pk=row.profile_id,
        mentor_id=row.mentor_id,
        first_name=row.first_name,
        role_title=row.role_title,
        sector=lookup.sectors.get(row.sector_id, ""),
        areas=sorted(lookup.areas.get(pk, "") for pk in ids_in(row.expertise_bits)),
        languages=sorted(lookup.languages.get(pk, "") for pk in ids_in(row.language_bits)),
        country=lookup.countries.get(row.country, row.country),
        availability=row.availability,
        active_mentees=row.active_mentees,
        capacity=row.capacity,
        reasons=reasons or [],
    )
