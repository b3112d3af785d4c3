"""Suggestions ranked in this process, over its own copy of the listing's columns (R-MATCH-1, issue 10).

The listing table (matching/listing.py) stays the only source. Each process keeps, per scheme, the columns
the score reads as NumPy arrays, and each request asks the database only for what changed since the copy's
revision: one indexed statement that returns nothing when nothing changed. So ranking ten thousand mentors
is a few vector operations here instead of the score evaluated row by row in SQL, and a change to one
mentor is one row read by each process at its next request; no request rebuilds anything whole.

What a request reads:
- rows and removals numbered after the copy's revision: applied to the copy;
- rows and removals not numbered yet (written by a transaction that has not committed, or committed a moment
  ago and not yet stamped): used for this request only, over the copy, never kept, so a rolled-back write
  never lingers in a process;
- the scheme's state: its revision (the copy's next), its epoch and what it has forgotten. A copy from
  another epoch, ahead of the state (a restored database) or behind what was forgotten reads the scheme
  again, whole.

`top` ranks exactly as `suggest.rank`: the vectors compute each score's sum with the same operations in the
same order as `suggest.score`, so the unrounded totals are equal; the few rows that can reach the last place
(within the rounding of it) are then rounded and ordered in Python by (-score, mentor id).
tests/matching/test_ranking.py holds it to `suggest.rank` on generated data and after each kind of change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet

from matching.listing import COLUMNS, ids_in, offer_of
from matching.models import ListingRemoval, ListingState, MentorListing, MentorProfile
from matching.suggest import WEIGHTS, MenteeNeeds, ids_of, mask_of, score
from messaging import statements

# The listing's columns a copy keeps, in the order the change statement reads them: the row's key, then the
# columns a refresh writes.
FIELDS = ("profile_id", *COLUMNS)
PROFILE, MENTOR, SECTOR, COUNTRY, AVAILABILITY, CAPACITY, ACTIVE, EXPERTISE, LANGUAGES = (
    FIELDS.index(name)
    for name in (
        "profile_id",
        "mentor_id",
        "sector_id",
        "country",
        "availability",
        "capacity",
        "active_mentees",
        "expertise_bits",
        "language_bits",
    )
)
ROW, REMOVAL, STATE, EXCLUDED, ONLY = range(5)
ACCEPTING = MentorProfile.Availability.ACCEPTING.value
ROUNDING = 2e-4  # scores are rounded to 4 decimals: totals further below the last place cannot reach it


def _statements() -> tuple[dict[bool, str], str]:
    """The change statement, whole (a copy's first read) and since a revision (every later one: a plain index
    condition, so PostgreSQL's prepared plan reads the scheme's few new rows by the (scheme, revision) index),
    and the arm that reads a query of mentor ids alongside."""
    listing, removal, state = (m._meta.db_table for m in (MentorListing, ListingRemoval, ListingState))
    users = get_user_model()._meta.db_table

    def blanks(n: int) -> str:
        return ", ".join(["NULL"] * n)

    def changes(since: str) -> str:
        # Only table and column names from the models are joined; the values are parameters.
        return f"""
            SELECT {ROW}, l.revision, {", ".join(f"l.{name}" for name in FIELDS)} FROM {listing} l
             WHERE l.scheme_id = %s {since.format("l")}
            UNION ALL
            SELECT {REMOVAL}, r.revision, r.profile_id, {blanks(len(FIELDS) - 1)} FROM {removal} r
             WHERE r.scheme_id = %s {since.format("r")}
            UNION ALL
            SELECT {STATE}, s.revision, s.forgotten, NULL, s.epoch, {blanks(len(FIELDS) - 3)} FROM {state} s
             WHERE s.scheme_id = %s
        """  # noqa: S608

    statements = {False: changes(""), True: changes("AND ({0}.revision > %s OR {0}.revision IS NULL)")}
    # A query of mentor ids (the exclusions, a network's mentors) read in the same statement.
    ids = f"SELECT {{kind}}, NULL, NULL, u.id, {blanks(len(FIELDS) - 2)} FROM {users} u WHERE u.id IN ({{sql}})"  # noqa: S608
    return statements, ids


CHANGES_SQL, IDS_SQL = _statements()


WORD = 64


def words_of(bits: str) -> list[int]:
    """A set of ids written as "0"/"1" (listing.bits_of) as 64-bit words: bit n of the set is id n."""
    mask = mask_of(ids_in(bits))
    return [(mask >> (WORD * w)) & (2**WORD - 1) for w in range(len(bits) // WORD + 1)]


def takes_mentees(row: tuple) -> bool:
    """Accepting, with a place free: `listing.with_free_places` for a row of FIELDS."""
    return row[AVAILABILITY] == ACCEPTING and row[ACTIVE] < row[CAPACITY]


class Copy:
    """One scheme's listing in this process: a slot per row, and the columns the score reads as arrays
    (sets of ids as rows of 64-bit words, as wide as the largest id held)."""

    def __init__(self, epoch: str = ""):
        self.epoch = epoch
        self.revision = -1  # nothing read yet
        self.slot: dict[int, int] = {}  # profile id -> slot
        self.at: dict[int, tuple] = {}  # slot -> the row's FIELDS
        self.by_mentor: dict[int, int] = {}  # mentor id -> slot
        self.free_slots: list[int] = []
        self.countries: dict[str, int] = {}
        self.size = 0  # slots in use or freed
        self._arrays(0, 1)

    def _arrays(self, n: int, words: int) -> None:
        self.mentor = np.full(n, -1, dtype=np.int64)
        self.sector = np.full(n, -1, dtype=np.int64)
        self.country = np.full(n, -1, dtype=np.int64)
        self.capacity = np.zeros(n, dtype=np.int64)
        self.free = np.zeros(n, dtype=np.int64)  # places free: capacity less active mentees
        self.open = np.zeros(n, dtype=bool)  # listed, accepting and with a free place
        self.expertise = np.zeros((n, words), dtype=np.uint64)
        self.language = np.zeros((n, words), dtype=np.uint64)

    def _grow(self, needed: int, words: int) -> None:
        """Room for `needed` slots and sets `words` wide, doubling the slots when short of them."""
        slots, width = len(self.mentor), self.expertise.shape[1]
        if needed <= slots and words <= width:
            return
        old = {name: getattr(self, name) for name in ARRAYS}
        self._arrays(max(needed, 2 * slots, 64) if needed > slots else slots, max(words, width))
        for name, values in old.items():
            getattr(self, name)[tuple(slice(0, d) for d in values.shape)] = values

    def remove(self, profile_id: int) -> None:
        slot = self.slot.pop(profile_id, None)
        if slot is None:
            return
        row = self.at.pop(slot)
        if self.by_mentor.get(row[MENTOR]) == slot:
            del self.by_mentor[row[MENTOR]]
        self.mentor[slot], self.open[slot] = -1, False
        self.free_slots.append(slot)

    def put(self, rows: list[tuple]) -> None:
        """Add or replace rows (FIELDS tuples), in one assignment per column."""
        slots = []
        for row in rows:
            profile_id = row[PROFILE]
            if profile_id in self.slot:
                self.remove(profile_id)
            slot = self.free_slots.pop() if self.free_slots else self.size
            self.size = max(self.size, slot + 1)
            self.slot[profile_id], self.at[slot] = slot, row
            self.by_mentor[row[MENTOR]] = slot
            slots.append(slot)
        if not rows:
            return
        expertise, languages = [words_of(row[EXPERTISE]) for row in rows], [words_of(row[LANGUAGES]) for row in rows]
        words = max(len(w) for w in (*expertise, *languages))
        self._grow(self.size, words)
        index = np.array(slots, dtype=np.int64)
        code = self.countries.setdefault
        self.mentor[index] = [row[MENTOR] for row in rows]
        self.sector[index] = [row[SECTOR] for row in rows]
        self.country[index] = [code(row[COUNTRY], len(self.countries)) for row in rows]
        self.capacity[index] = [row[CAPACITY] for row in rows]
        self.free[index] = [row[CAPACITY] - row[ACTIVE] for row in rows]
        self.open[index] = [takes_mentees(row) for row in rows]
        width = self.expertise.shape[1]
        self.expertise[index] = [w + [0] * (width - len(w)) for w in expertise]
        self.language[index] = [w + [0] * (width - len(w)) for w in languages]

    def holds(self, kind: str, pk: int, n: int) -> np.ndarray:
        """1 where the row's set `kind` ("expertise" or "language") holds id `pk`, else 0."""
        words = getattr(self, kind)
        if pk // WORD >= words.shape[1]:
            return np.zeros(n, dtype=np.int64)
        return ((words[:n, pk // WORD] >> np.uint64(pk % WORD)) & np.uint64(1)).astype(np.int64)

    def totals(self, needs: MenteeNeeds) -> np.ndarray:
        """Each slot's score before rounding: `suggest._evaluate`'s operations, in its order."""
        n = self.size
        total = np.zeros(n, dtype=np.float64)
        if needs.sector_id is not None:
            total += np.where(self.sector[:n] == needs.sector_id, WEIGHTS["sector"], 0.0)
        wanted = ids_of(needs.expertise_mask)
        if wanted:
            matched = sum(self.holds("expertise", pk, n) for pk in wanted)
            total += np.where(matched > 0, WEIGHTS["expertise"] * matched / len(wanted), 0.0)
        if needs.language_id is not None:
            total += np.where(self.holds("language", needs.language_id, n) == 1, WEIGHTS["language"], 0.0)
        if needs.country:
            code = self.countries.get(needs.country, -2)
            total += np.where(self.country[:n] == code, WEIGHTS["country"], 0.0)
        capacity, free = self.capacity[:n], self.free[:n]
        with np.errstate(divide="ignore", invalid="ignore"):
            places = np.where((capacity > 0) & (free > 0), WEIGHTS["places"] * free / capacity, 0.0)
        return total + places


ARRAYS = ("mentor", "sector", "country", "capacity", "free", "open", "expertise", "language")


@dataclass
class Pending:
    """What a request saw that is not numbered yet: rows to use instead of the copy's, and profiles gone."""

    rows: dict[int, tuple] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)


_copies: dict[int, Copy] = {}
_lock = threading.Lock()


@dataclass
class Read:
    """One statement's answer: rows and removals with their revision (None: not numbered yet), the scheme's
    state (revision, forgotten, epoch), and the mentor ids of each query of ids asked alongside."""

    rows: list = field(default_factory=list)
    removals: list = field(default_factory=list)
    state: tuple = (0, 0, "")
    ids: dict[int, set[int]] = field(default_factory=lambda: {EXCLUDED: set(), ONLY: set()})


def _read(scheme_id: int, since: int, id_queries: dict) -> Read:
    if since < 0:
        sql, params = CHANGES_SQL[False], [scheme_id, scheme_id, scheme_id]
    else:
        sql, params = CHANGES_SQL[True], [scheme_id, since, scheme_id, since, scheme_id]
    for kind, query in id_queries.items():
        try:
            query_sql, query_params = query if isinstance(query, tuple) else query.query.sql_with_params()
        except EmptyResultSet:  # a filter on no ids at all: the set stays empty
            continue
        sql += f" UNION ALL {IDS_SQL.format(kind=kind, sql=query_sql)}"
        params += query_params
    read = Read()
    with statements.cursor() as cursor:  # prepared once per connection on PostgreSQL: its text never varies
        cursor.execute(sql, params)
        for kind, revision, *values in cursor.fetchall():
            if kind == ROW:
                read.rows.append((revision, tuple(values)))
            elif kind == REMOVAL:
                read.removals.append((revision, values[PROFILE]))
            elif kind == STATE:
                read.state = (revision, values[PROFILE] or 0, values[FIELDS.index("first_name")])  # see STATE's arm
            else:
                read.ids[kind].add(values[MENTOR])
    return read


def current(scheme_id: int, id_queries: dict | None = None) -> tuple[Copy, Pending, Read]:
    """This process's copy of the scheme's listing brought up to date, what is not numbered yet, and the
    answers to `id_queries` ({EXCLUDED or ONLY: a query of user ids}), in one statement (two when the copy must
    be read again whole). Call with `_lock` held."""
    id_queries = id_queries or {}
    copy = _copies.get(scheme_id) or Copy()
    read = _read(scheme_id, copy.revision, id_queries)
    revision, forgotten, epoch = read.state
    if copy.revision >= 0 and (epoch != copy.epoch or revision < copy.revision or copy.revision < forgotten):
        copy = Copy()
        read = _read(scheme_id, -1, id_queries)
        revision, forgotten, epoch = read.state
    rows, removals = read.rows, read.removals
    copy.epoch = epoch
    pending = Pending()
    for number, profile_id in removals:
        if number is None:
            pending.removed.add(profile_id)
        else:
            copy.remove(profile_id)
    copy.put([values for number, values in rows if number is not None])
    for number, values in rows:
        if number is None:
            pending.rows[values[PROFILE]] = values
    copy.revision = revision
    _copies[scheme_id] = copy
    return copy, pending, read


def _listing_row(scheme_id: int, values: tuple) -> MentorListing:
    return MentorListing(scheme_id=scheme_id, **dict(zip(FIELDS, values, strict=True)))


def top(scheme_id: int, needs: MenteeNeeds, *, exclude, limit: int = 10, only=None) -> list[MentorListing]:
    """The best `limit` listed mentors of the scheme accepting mentees with a free place, best first (ties: lower
    mentor id), in one query. `exclude` is a query of mentor ids not to propose, a queryset or (sql, params)
    (matching.selectors.excluded_mentor_ids, excluded_mentor_sql); `only`, when given, a query of the only mentor
    ids to consider (a coordinator's network). Both are read in the same statement as the listing's changes."""
    with _lock:
        copy, pending, read = current(scheme_id, {EXCLUDED: exclude} | ({ONLY: only} if only is not None else {}))
        exclude, only = read.ids[EXCLUDED], (read.ids[ONLY] if only is not None else None)
        n = copy.size
        keep = copy.open[:n].copy()
        for mentor_id in exclude:
            if (slot := copy.by_mentor.get(mentor_id)) is not None:
                keep[slot] = False
        for profile_id in pending.removed | pending.rows.keys():
            if (slot := copy.slot.get(profile_id)) is not None:
                keep[slot] = False
        if only is not None:
            keep &= np.isin(copy.mentor[:n], np.fromiter(only, dtype=np.int64, count=len(only)))
        candidates = np.flatnonzero(keep)
        totals = copy.totals(needs)[candidates] if len(candidates) else np.zeros(0)
        if len(candidates) > limit:
            last = np.partition(totals, len(totals) - limit)[len(totals) - limit]
            close = totals >= last - ROUNDING
            candidates, totals = candidates[close], totals[close]
        ranked = [
            (-round(float(total), 4), int(copy.mentor[slot]), copy.at[slot])
            for slot, total in zip(candidates.tolist(), totals.tolist(), strict=True)
        ]
    for values in pending.rows.values():  # what the table holds now, even where a removal is pending too
        row = _listing_row(scheme_id, values)
        if not takes_mentees(values) or row.mentor_id in exclude:
            continue
        if only is not None and row.mentor_id not in only:
            continue
        ranked.append((-score(needs, offer_of(row)).score, row.mentor_id, values))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [_listing_row(scheme_id, values) for _, _, values in ranked[:limit]]
