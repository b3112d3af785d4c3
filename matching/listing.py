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
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import F, FloatField, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.db.models.lookups import Exact
from django.utils import timezone
from django_countries import countries

from accounts.models import Language
from matching.models import ExpertiseArea, ListingState, MentorListing, MentorProfile, Sector
from matching.suggest import WEIGHTS, MenteeNeeds, MentorOffer, Names, ids_of, mask_of
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
            update_fields=[c.removesuffix("_id") for c in COLUMNS],
        )
    gone = [pk for pk in existing if pk not in desired]
    if gone:
        MentorListing.objects.filter(scheme=scheme, profile_id__in=gone).delete()
    if changed:
        counts_changed(scheme.pk)
    return len(changed) + len(gone)


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
        if ListingState.objects.filter(scheme=scheme).exists():
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


def score_sql(needs: MenteeNeeds) -> RawSQL:
    """`suggest.score` written in SQL over the listing's columns: the same terms, weights and rounding.

    Computed in double precision, as Python does. Every score is a sum of a few small fractions (areas
    matched of at most a few dozen wanted, places free of at most ten), so no exact score lies within 1e-9
    of a rounding boundary at four decimals, and ROUND(total * 10000) / 10000 gives Python's
    `round(total, 4)` exactly, ties included. tests/matching/test_listing_table.py checks the ranking
    against `suggest.rank` on generated data, on both databases.
    """
    t = MentorListing._meta.db_table
    weight = "CAST(%s AS DOUBLE PRECISION)"

    def holds(column: str) -> str:  # 1 if the row's set `column` holds the parameter's id, else 0
        if column.endswith("_mask"):
            return f'(("{t}"."{column}" >> %s) & 1)'
        return f"""CASE WHEN substr("{t}"."{column}", %s, 1) = '1' THEN 1 ELSE 0 END"""

    def column_for(kind: str, pk: int) -> str:
        return f"{kind}_mask" if pk < MASK_IDS else f"{kind}_bits"

    parts, params = [], []
    if needs.sector_id is not None:
        parts.append(f'CASE WHEN "{t}"."sector_id" = %s THEN {weight} ELSE 0 END')
        params += [needs.sector_id, WEIGHTS["sector"]]
    wanted = ids_of(needs.expertise_mask)
    if wanted:
        matched = " + ".join(holds(column_for("expertise", pk)) for pk in wanted)
        parts.append(f"{weight} * ({matched}) / {weight}")
        params += [WEIGHTS["expertise"], *wanted, len(wanted)]
    if needs.language_id is not None:
        parts.append(f"CASE WHEN {holds(column_for('language', needs.language_id))} = 1 THEN {weight} ELSE 0 END")
        params += [needs.language_id, WEIGHTS["language"]]
    if needs.country:
        parts.append(f'CASE WHEN "{t}"."country" = %s THEN {weight} ELSE 0 END')
        params += [needs.country, WEIGHTS["country"]]
    free = f'("{t}"."capacity" - "{t}"."active_mentees")'
    parts.append(
        f'CASE WHEN "{t}"."active_mentees" < "{t}"."capacity" THEN {weight} * {free} / "{t}"."capacity" ELSE 0 END'
    )
    params.append(WEIGHTS["places"])
    # Only constant SQL text is joined; every value is a parameter.
    total = " + ".join(parts)
    return RawSQL(f"ROUND(({total}) * 10000) / 10000", params, output_field=FloatField())  # noqa: S611


def with_free_places(scheme: Scheme):
    """Listing rows of `scheme` whose mentor is accepting mentees and has a free place."""
    return MentorListing.objects.filter(
        scheme=scheme, availability=MentorProfile.Availability.ACCEPTING, active_mentees__lt=F("capacity")
    )


def ranked(scheme: Scheme, needs: MenteeNeeds, *, exclude, limit: int = 10, mentor_ids=None) -> list[MentorListing]:
    """The best `limit` listed mentors with a free place, best first (ties: lower mentor id), in one query.

    `exclude` is a queryset of mentor ids not to propose (matching.selectors.excluded_mentor_ids); `mentor_ids`,
    when given, a queryset of the only mentor ids to consider (a coordinator's network).

    The statement is written here around the ORM's own SQL for each part (the rows `with_free_places` keeps,
    the exclusion, the score): built as one queryset, the exclusion's union and the score cost the Find a
    mentor page more time to compile than the database took to run it.
    """
    t = MentorListing._meta.db_table
    columns = ", ".join(f'"{t}"."{field.column}"' for field in MentorListing._meta.concrete_fields)
    score = score_sql(needs)
    rows = with_free_places(scheme)
    free_sql, free_params = rows.query.get_compiler(using=rows.db).compile(rows.query.where)
    excluded_sql, excluded_params = exclude.query.sql_with_params()
    where = [free_sql, f'"{t}"."mentor_id" NOT IN ({excluded_sql})']
    params = [*free_params, *excluded_params]
    if mentor_ids is not None:
        only_sql, only_params = mentor_ids.query.sql_with_params()
        where.append(f'"{t}"."mentor_id" IN ({only_sql})')
        params += only_params
    # Only constant SQL text and SQL the ORM wrote is joined; every value is a parameter.
    sql = (
        f"SELECT {columns}, {score.sql} AS score FROM {t} WHERE {' AND '.join(where)}"  # noqa: S608
        f' ORDER BY score DESC, "{t}"."mentor_id" LIMIT %s'
    )
    return list(MentorListing.objects.raw(sql, [*score.params, *params, limit]))


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
