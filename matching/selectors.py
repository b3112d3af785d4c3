"""Shared reads for matching: search, suggestions, the waiting list, the cohort preview, and fetches with a
permission check (`access_*`, which give 404 to anyone who may not see the row). Query counts do not grow with rows."""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from matching import cohort, listing, ranking
from matching.listing import MentorCard, card_of, listed_profiles, names
from matching.models import ApprovedProfileText, MenteeProfile, MentorProfile, MentorshipRequest, PairingProposal
from matching.suggest import MenteeNeeds, MentorOffer, explain, fit_out_of_100, mask_of, score
from mentoring import permissions
from mentoring.models import Pairing, Role, Scheme, SchemeMembership
from messaging import statements
from safeguarding import eligibility

# A declined mentor is not suggested again for this long (R-MATCH-7).
DECLINE_COOLDOWN = datetime.timedelta(days=90)


def mentor_search(scheme: Scheme, *, sector=None, expertise=None, language=None, country="", availability=""):
    """Listed mentors of `scheme` filtered as the search form asks, by first name (rows of the listing table)."""
    listing.ensure_built(scheme)
    return listing.search(
        scheme, sector=sector, expertise=expertise, language=language, country=country, availability=availability
    )


def mentor_cards(rows) -> list[MentorCard]:
    lookup = names()
    return [card_of(row, lookup) for row in rows]


def needs_for(mentee) -> MenteeNeeds | None:
    profile = MenteeProfile.objects.filter(user=mentee).prefetch_related("expertise").first()
    if profile is None:
        return None
    return MenteeNeeds(
        mentee_id=mentee.pk,
        sector_id=profile.sector_id,
        expertise_mask=mask_of(a.pk for a in profile.expertise.all()),
        language_id=profile.language_id,
        country=str(profile.country or ""),
    )


@dataclass(frozen=True)
class MenteeGoals:
    needs: MenteeNeeds | None  # None until they set out their goals
    active_mentors: int  # their active pairings in the scheme (R-MATCH-8)


def _goals_sql(vendor: str) -> str:
    profile, pairing = MenteeProfile._meta.db_table, Pairing._meta.db_table
    areas = MenteeProfile.expertise.through._meta.db_table
    joined = (
        "string_agg(CAST(a.expertisearea_id AS TEXT), ',')"
        if vendor == "postgresql"
        else "group_concat(a.expertisearea_id, ',')"
    )
    return f"""
        SELECT p.id, p.sector_id, p.language_id, p.country,
          (SELECT COUNT(*) FROM {pairing} WHERE mentee_id = %(mentee)s AND scheme_id = %(scheme)s
             AND status = %(active)s),
          (SELECT {joined} FROM {areas} a WHERE a.menteeprofile_id = p.id)
        FROM (SELECT 1 AS one) o LEFT JOIN {profile} p ON p.user_id = %(mentee)s
    """  # noqa: S608 (table names from the models; every value is a parameter)


GOALS_SQL = {vendor: _goals_sql(vendor) for vendor in ("postgresql", "sqlite")}


def mentee_goals(mentee, scheme: Scheme) -> MenteeGoals:
    """What the mentor search needs to know of the mentee, in one plain query: their profile with their areas
    and their active pairings in the scheme (`Pairing.objects.active()`). Through the ORM, building it cost
    the search page more than running it."""
    with statements.cursor() as cursor:
        cursor.execute(
            GOALS_SQL[connection.vendor],
            {"mentee": mentee.pk, "scheme": scheme.pk, "active": Pairing.Status.ACTIVE.value},
        )
        profile_id, sector_id, language_id, country, active_mentors, areas = cursor.fetchone()
    if profile_id is None:
        return MenteeGoals(None, active_mentors)
    needs = MenteeNeeds(
        mentee_id=mentee.pk,
        sector_id=sector_id,
        expertise_mask=mask_of(int(pk) for pk in (areas or "").split(",") if pk),
        language_id=language_id,
        country=country or "",
    )
    return MenteeGoals(needs, active_mentors)


def _partners(mentee_ids):
    return Pairing.objects.filter(mentee_id__in=mentee_ids)


def _asked(mentee_ids, scheme: Scheme, now: datetime.datetime):
    return MentorshipRequest.objects.filter(mentee_id__in=mentee_ids, scheme=scheme).filter(
        Q(status=MentorshipRequest.Status.PENDING)
        | Q(status=MentorshipRequest.Status.DECLINED, responded_at__gte=now - DECLINE_COOLDOWN)
    )


def exclusions(mentee_ids: list[int], scheme: Scheme, *, now: datetime.datetime | None = None) -> dict[int, set[int]]:
    """For each mentee, the mentors not to propose (R-MATCH-7): anyone they were ever paired with, anyone who
    declined them in this scheme in the last DECLINE_COOLDOWN, anyone they are waiting on, and themselves.
    A former partner can still be asked by name; this only keeps them out of suggestions and cohort runs."""
    now = now or timezone.now()
    excluded: dict[int, set[int]] = {mentee_id: {mentee_id} for mentee_id in mentee_ids}
    partners = _partners(mentee_ids).values_list("mentee_id", "mentor_id")
    asked = _asked(mentee_ids, scheme, now).values_list("mentee_id", "mentor_id")
    for mentee_id, mentor_id in [*partners, *asked]:
        excluded[mentee_id].add(mentor_id)
    return excluded


def excluded_mentor_ids(mentee, scheme: Scheme, *, now: datetime.datetime | None = None):
    """`exclusions` for one mentee as a query of mentor ids, for SQL to leave out (the same two sources)."""
    now = now or timezone.now()
    partners = _partners([mentee.pk]).order_by().values("mentor_id")
    asked = _asked([mentee.pk], scheme, now).order_by().values("mentor_id")
    return partners.union(asked, get_user_model().objects.filter(pk=mentee.pk).order_by().values("pk"))


# `excluded_mentor_ids` compiled once per process and database with stand-in values, then given each mentee's:
# built and compiled through the ORM on every Find a mentor page, it cost more than the database took to run it.
_STAND_IN_MENTEE, _STAND_IN_SCHEME = -740_001, -740_002
_STAND_IN_NOW = datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
_compiled_exclusions: dict[str, tuple[str, list, list[int], list[int], list[int]]] = {}


def excluded_mentor_sql(mentee_id: int, scheme_id: int, *, now: datetime.datetime | None = None) -> tuple[str, list]:
    """`excluded_mentor_ids` as (sql, params) for one mentee: the same query, compiled once."""
    vendor = connection.vendor
    compiled = _compiled_exclusions.get(vendor)
    if compiled is None:
        query = excluded_mentor_ids(
            SimpleNamespace(pk=_STAND_IN_MENTEE), Scheme(pk=_STAND_IN_SCHEME), now=_STAND_IN_NOW
        )
        sql, params = query.query.sql_with_params()
        cutoff = connection.ops.adapt_datetimefield_value(_STAND_IN_NOW - DECLINE_COOLDOWN)
        mentees, schemes, cutoffs = (
            [i for i, p in enumerate(params) if p == v] for v in (_STAND_IN_MENTEE, _STAND_IN_SCHEME, cutoff)
        )
        if (len(mentees), len(schemes), len(cutoffs)) != (3, 1, 1):  # pragma: no cover (the query changed shape)
            raise RuntimeError(f"excluded_mentor_ids no longer compiles as expected: {sql} {params}")
        compiled = _compiled_exclusions[vendor] = (sql, list(params), mentees, schemes, cutoffs)
    sql, params, mentees, schemes, cutoffs = compiled
    params = list(params)
    for i in mentees:
        params[i] = mentee_id
    params[schemes[0]] = scheme_id
    params[cutoffs[0]] = connection.ops.adapt_datetimefield_value((now or timezone.now()) - DECLINE_COOLDOWN)
    return sql, params


def excluded_mentors(mentee, scheme: Scheme, *, now: datetime.datetime | None = None) -> set[int]:
    return exclusions([mentee.pk], scheme, now=now)[mentee.pk]


def suggestions_for(mentee, scheme: Scheme, *, limit: int = 5, needs: MenteeNeeds | None = None) -> list[MentorCard]:
    """Ranked mentors for this mentee with the reasons in words; empty until they set their goals.

    Ranked over this process's copy of the listing table (`ranking.top`, the same order as `suggest.rank`);
    the reasons come from `suggest.score` itself for the few it keeps.
    """
    needs = needs or needs_for(mentee)
    if needs is None:
        return []
    listing.ensure_built(scheme)
    lookup = names()
    cards = []
    for row in ranking.top(scheme.pk, needs, exclude=excluded_mentor_sql(mentee.pk, scheme.pk), limit=limit):
        suggestion = score(needs, listing.offer_of(row))
        cards.append(card_of(row, lookup, explain(suggestion, lookup)))
    return cards


@dataclass
class WaitingState:
    membership: SchemeMembership
    waiting_since: datetime.datetime | None
    pending_requests: list[MentorshipRequest]
    active_pairing: Pairing | None

    @property
    def days_waiting(self) -> int | None:
        if self.waiting_since is None:
            return None
        return (timezone.now() - self.waiting_since).days


def waiting_states(mentee) -> list[WaitingState]:
    """Where the mentee stands in each scheme (R-MATCH-4): paired, or waiting since when, and what is pending."""
    states = []
    memberships = SchemeMembership.objects.filter(user=mentee, role=Role.MENTEE).select_related("scheme", "network")
    pending = defaultdict(list)
    for request in MentorshipRequest.objects.pending().filter(mentee=mentee).select_related("mentor", "scheme"):
        pending[request.scheme_id].append(request)
    pairings = {p.scheme_id: p for p in Pairing.objects.active().filter(mentee=mentee).select_related("mentor")}
    last_ended = dict(
        Pairing.objects.filter(mentee=mentee, status=Pairing.Status.ENDED)
        .order_by("scheme_id", "ended_at")
        .values_list("scheme_id", "ended_at")
    )
    for membership in memberships:
        pairing = pairings.get(membership.scheme_id)
        since = None
        if pairing is None:
            since = max(filter(None, [membership.joined_at, last_ended.get(membership.scheme_id)]))
        states.append(WaitingState(membership, since, pending[membership.scheme_id], pairing))
    return states


def unmatched_mentees(*, scheme: Scheme | None = None, model=SchemeMembership):
    """Active mentee memberships with no active pairing, oldest first (R-MATCH-4): the coordinators' queue."""
    paired = Pairing.objects.active().filter(mentee=OuterRef("user"), scheme=OuterRef("scheme"))
    memberships = model.objects.filter(
        role=Role.MENTEE, status__in=[SchemeMembership.Status.ACTIVE, SchemeMembership.Status.PENDING]
    ).exclude(Exists(paired))
    if scheme is not None:
        memberships = memberships.filter(scheme=scheme)
    return memberships.select_related("user", "scheme", "network").order_by("joined_at", "pk")


@dataclass
class CohortInputs:
    mentees: list[MenteeNeeds]
    mentors: list[MentorOffer]
    exclude: dict[int, set[int]]
    left_out: dict[int, str]  # waiting mentee id -> why cohort matching does not include them


def cohort_inputs(scheme: Scheme, *, network=None) -> CohortInputs:
    """Plain data for cohort matching: waiting, eligible mentees with goals and no request pending; listed mentors.

    Waiting mentees it leaves out are named with the reason, so no one is silently
    dropped (R-MATCH-4). A fixed number of queries whatever the size of the cohort.
    """
    waiting = unmatched_mentees(scheme=scheme)
    if network is not None:
        waiting = waiting.filter(network=network)
    waiting_ids = list(waiting.values_list("user_id", flat=True))
    eligible = set(
        eligibility.eligible_users(scheme, Role.MENTEE).filter(pk__in=waiting_ids).values_list("pk", flat=True)
    )
    with_goals = set(MenteeProfile.objects.filter(user_id__in=waiting_ids).values_list("user_id", flat=True))
    pending = set(
        MentorshipRequest.objects.pending()
        .filter(scheme=scheme, mentee_id__in=waiting_ids)
        .values_list("mentee_id", flat=True)
    )
    proposed = set(
        PairingProposal.objects.open()
        .filter(scheme=scheme, mentee_id__in=waiting_ids)
        .values_list("mentee_id", flat=True)
    )
    left_out: dict[int, str] = {}
    for user_id in waiting_ids:
        if user_id not in eligible:
            left_out[user_id] = "not eligible yet (see their onboarding checklist)"
        elif user_id not in with_goals:
            left_out[user_id] = "has not set out their goals"
        elif user_id in pending:
            left_out[user_id] = "has a request waiting for a mentor's answer"
        elif user_id in proposed:
            left_out[user_id] = "has a proposed pairing waiting for the members to confirm"
    mentee_ids = [user_id for user_id in waiting_ids if user_id not in left_out]
    areas = defaultdict(set)
    for user_id, area_id in MenteeProfile.expertise.through.objects.filter(
        menteeprofile__user_id__in=mentee_ids
    ).values_list("menteeprofile__user_id", "expertisearea_id"):
        areas[user_id].add(area_id)
    mentees = [
        MenteeNeeds(
            mentee_id=user_id,
            sector_id=sector_id,
            expertise_mask=mask_of(areas[user_id]),
            language_id=language_id,
            country=str(country or ""),
        )
        for user_id, sector_id, language_id, country in MenteeProfile.objects.filter(user_id__in=mentee_ids)
        .order_by("user_id")
        .values_list("user_id", "sector_id", "language_id", "country")
    ]
    offers = listing.load_offers(scheme)  # fresh: cohort matching must see every place as it is now
    if network is not None:
        in_network = set(
            SchemeMembership.objects.filter(scheme=scheme, role=Role.MENTOR, network=network).values_list(
                "user_id", flat=True
            )
        )
        offers = {k: v for k, v in offers.items() if k in in_network}
    exclude = exclusions(mentee_ids, scheme)
    return CohortInputs(mentees, [o for o in offers.values() if o.free_places > 0], exclude, left_out)


@dataclass
class ProposedPair:
    mentee: object
    mentor: object
    score: float
    reasons: list[str]

    @property
    def fit(self) -> int:
        """The score on the 0–100 scale (FIT_SCALE)."""
        return fit_out_of_100(self.score)

    @property
    def key(self) -> str:
        """How the preview's form names this pair when the coordinator drops it."""
        return f"{self.mentee.pk}-{self.mentor.pk}"


COHORT_SALT = "matching.cohort"


@dataclass
class CohortPreview:
    scheme: Scheme
    network: object
    pairs: list[ProposedPair]
    unmatched: list
    total_score: float
    left_out: list[tuple[object, str]]
    upper_bound: float = 0.0  # no choice of pairs, over every mentee and mentor in the run, scores more
    gap: float = 0.0  # 1 - total_score / upper_bound: 0 when the total is proven the best possible
    mentors_with_places: int = 0

    def token(self) -> str:
        """A signed list of the previewed pairs with their fit, so confirming proposes exactly what was shown
        (less the pairs the coordinator drops); compressed, as the reasons repeat from pair to pair."""
        return signing.dumps(
            {
                "scheme": self.scheme.pk,
                "network": self.network.pk if self.network is not None else None,
                "pairs": [[p.mentee.pk, p.mentor.pk] for p in self.pairs],
                "fits": [[p.score, p.reasons] for p in self.pairs],
            },
            salt=COHORT_SALT,
            compress=True,
        )

    @property
    def where(self) -> str:
        return str(self.network) if self.network is not None else "this scheme"

    @property
    def quality(self) -> str:
        """How good the proposal is, in words, on the scale of one pair's score."""
        if not self.pairs:
            return ""
        scale = f"each pair scores from 0 to {cohort.BEST_PAIR:g}; the table shows each pair's fit out of 100"
        if self.gap * self.upper_bound < 0.00005:
            return f"Total fit {self.total_score:,.2f} ({scale}): the best possible; no other choice scores more."
        # Rounded up, so the claim holds: a gap of 0.31% reads "within 0.4%".
        percent = max(math.ceil(self.gap * 1000 - 1e-9), 1) / 10
        return (
            f"Total fit {self.total_score:,.2f} ({scale}): within {percent:g}% of the best possible "
            f"(no choice of pairs can score more than {self.upper_bound:,.2f})."
        )

    @property
    def notice(self) -> str:
        """Why nothing is proposed, when nothing is; else empty."""
        if self.pairs:
            return ""
        waiting = len(self.unmatched)
        if not waiting and not self.left_out:
            if not self.mentors_with_places:
                return (
                    f"Nobody in {self.where} is waiting for a mentor and no mentor has a free place, "
                    "so there is nothing to match."
                )
            return f"Nobody in {self.where} is waiting for a mentor, so there is nothing to match."
        if not waiting:
            return "None of the waiting mentees can be matched yet: each is listed below with the reason."
        people = "The waiting mentee" if waiting == 1 else f"The {waiting} waiting mentees"
        if not self.mentors_with_places:
            return (
                f"No mentor in {self.where} has a free place, so nobody can be matched now. "
                f"{people} {'stays' if waiting == 1 else 'stay'} on the waiting list."
            )
        return (
            f"{people} cannot be paired with any mentor who has a free place (they were paired before, were "
            "declined recently, or are waiting for that mentor's answer), so they stay on the waiting list."
        )


def cohort_preview(*, scheme: Scheme, network=None) -> CohortPreview:
    """Propose pairs for every waiting mentee of `scheme` (optionally one network), maximising total fit (R-MATCH-3).

    Reads only: nothing changes until `services.cohort_confirm`. An empty network, no one waiting or no free
    place gives a preview with no pairs and a `notice` that says why.
    """
    inputs = cohort_inputs(scheme, network=network)
    result = cohort.cohort_match(inputs.mentees, inputs.mentors, exclude=inputs.exclude)
    people = get_user_model().objects.in_bulk(
        [m for m, _, _ in result.pairs]
        + [r for _, r, _ in result.pairs]
        + list(result.unmatched)
        + list(inputs.left_out)
    )
    lookup = names()
    pairs = [
        ProposedPair(
            people[mentee_id], people[mentor_id], suggestion.score, explain(suggestion, lookup, to_mentee=False)
        )
        for mentee_id, mentor_id, suggestion in result.pairs
    ]
    pairs.sort(key=lambda p: (-p.score, p.mentee.pk))
    left_out = [(people[user_id], reason) for user_id, reason in inputs.left_out.items()]
    return CohortPreview(
        scheme,
        network,
        pairs,
        [people[i] for i in result.unmatched],
        result.total_score,
        left_out,
        upper_bound=result.upper_bound,
        gap=result.gap,
        mentors_with_places=len(inputs.mentors),
    )


def mentee_schemes(user):
    """The schemes `user` is a mentee in, by name."""
    return Scheme.objects.filter(memberships__user=user, memberships__role=Role.MENTEE).order_by("name")


def access_mentor_profile(user, pk: int) -> MentorProfile:
    """A profile `user` may read: their own, or one listed in a scheme they are a mentee in. Else 404."""
    profile = get_object_or_404(MentorProfile.objects.select_related("user", "sector"), pk=pk)
    if profile.user_id == user.pk:
        return profile
    # The engine itself, not the listing table: a page that grants access follows the records as they are
    # this moment, whatever wrote them.
    for scheme in mentee_schemes(user):
        if listed_profiles(scheme).filter(pk=pk).exists():
            return profile
    raise Http404("No such mentor.")


def access_request(user, pk: int, *, as_role: str | None = None) -> MentorshipRequest:
    """A mentorship request `user` sent or received (only as `as_role` when given), or 404."""
    requests = MentorshipRequest.objects.select_related("mentor", "mentee", "scheme")
    if as_role == Role.MENTOR:
        requests = requests.for_mentor(user)
    elif as_role == Role.MENTEE:
        requests = requests.for_mentee(user)
    else:
        requests = requests.visible_to(user)
    return get_object_or_404(requests, pk=pk)


# --- The coordinator's workbench (R-COORD-2): profile changes to review, and what the waiting list shows. ---


@dataclass(frozen=True)
class TextChange:
    """One reviewed part of a mentor profile: as last approved, and as it is now."""

    label: str
    approved: str
    now: str

    @property
    def changed(self) -> bool:
        return self.approved != self.now


def profile_text_changes(profile: MentorProfile) -> tuple[ApprovedProfileText | None, list[TextChange]]:
    """The profile's reviewed text beside the text last approved (R-COORD-2, R-PROFILE-3). The first part is
    None when no text was ever approved (a first submission): then each part's `approved` is empty."""
    approved = ApprovedProfileText.objects.filter(profile=profile).select_related("approved_by").first()
    expertise = "\n".join(profile.expertise.order_by("name").values_list("name", flat=True))
    now = (
        ("Current role", profile.role_title),
        ("Summary of work history", profile.work_history),
        ("Sector", profile.sector.name if profile.sector_id else ""),
        ("Areas of expertise", expertise),
    )
    before = (
        (approved.role_title, approved.work_history, approved.sector, approved.expertise)
        if approved is not None
        else ("", "", "", "")
    )
    return approved, [TextChange(label, old, new) for (label, new), old in zip(now, before, strict=True)]


@dataclass(frozen=True)
class WaitingFacts:
    """What the waiting list shows of one waiting mentee: their goals, whether the engine finds them eligible,
    and whether a mentor referred them back to their coordinator."""

    goals: str
    eligible: bool
    referred_back: bool


def waiting_facts(memberships) -> dict[int, WaitingFacts]:
    """WaitingFacts for each of `memberships` (waiting mentees' memberships), by membership id (R-COORD-2,
    R-MATCH-4). Queries: four, plus the eligibility engine's few for each scheme; never one per row.
    "Referred back": a mentor declined their request in that scheme and referred them to the coordinator."""
    rows = [(m.pk, m.user_id, m.scheme_id, m.joined_at) for m in memberships]
    if not rows:
        return {}
    user_ids = {user_id for _, user_id, _, _ in rows}
    goals = dict(MenteeProfile.objects.filter(user_id__in=user_ids).values_list("user_id", "goals"))
    referred: dict[tuple[int, int], datetime.datetime] = {}
    for mentee_id, scheme_id, responded_at in MentorshipRequest.objects.filter(
        mentee_id__in=user_ids, referred_to_coordinator=True, status=MentorshipRequest.Status.DECLINED
    ).values_list("mentee_id", "scheme_id", "responded_at"):
        key = (mentee_id, scheme_id)
        if responded_at is not None and (key not in referred or responded_at > referred[key]):
            referred[key] = responded_at
    # The engine's queryset for every scheme, used or not on this page, so the cost is the same whatever the rows.
    eligible_here = Q(pk__in=[])
    for scheme in Scheme.objects.all():
        eligible = eligibility.eligible_users(scheme, Role.MENTEE)
        in_scheme = [user_id for _, user_id, scheme_id, _ in rows if scheme_id == scheme.pk]
        if in_scheme:
            eligible_here |= Q(scheme=scheme, user__in=eligible.filter(pk__in=in_scheme))
    eligible_ids = set(
        SchemeMembership.objects.filter(eligible_here, pk__in=[pk for pk, _, _, _ in rows]).values_list("pk", flat=True)
    )
    return {
        pk: WaitingFacts(
            goals=goals.get(user_id, ""),
            eligible=pk in eligible_ids,
            referred_back=referred.get((user_id, scheme_id), joined_at) > joined_at,
        )
        for pk, user_id, scheme_id, joined_at in rows
    }


# --- Pairings a coordinator proposes (R-MATCH-3, R-MATCH-5) ---------------------------------------------------


def access_proposal(user, pk: int) -> PairingProposal:
    """A proposed pairing `user` is one side of, or 404 (another member's id is simply not found)."""
    proposals = PairingProposal.objects.for_member(user).select_related("mentor", "mentee", "scheme", "network")
    return get_object_or_404(proposals, pk=pk)


def open_proposals_for(user):
    """The member's proposals waiting for an answer, oldest first, with what their pages show."""
    return (
        PairingProposal.objects.for_member(user)
        .open()
        .select_related("mentor", "mentee", "scheme")
        .order_by("created_at", "pk")
    )


def waiting_mentees_to_pair(actor):
    """Mentee memberships `actor` may propose a mentor for (R-MATCH-3): waiting (no active pairing), eligible
    today by the engine, no proposal already waiting for an answer, in the actor's networks (staff: all).
    A fixed number of queries: one per scheme for the engine's condition, then one for the rows."""
    waiting = unmatched_mentees().exclude(
        Exists(PairingProposal.objects.open().filter(mentee=OuterRef("user"), scheme=OuterRef("scheme")))
    )
    if permissions.coordinator_only(actor):
        waiting = waiting.filter(network_id__in=permissions.coordinated_network_ids(actor))
    eligible = Q(pk__in=[])
    for scheme in Scheme.objects.filter(memberships__role=Role.MENTEE).distinct():
        eligible |= Q(scheme=scheme, user__in=eligibility.eligible_users(scheme, Role.MENTEE))
    return waiting.filter(eligible)


def network_mentor_ids(scheme: Scheme, network_id: int):
    """The user ids of mentors of `network_id` in `scheme`, as a query for SQL to use."""
    return SchemeMembership.objects.filter(scheme=scheme, role=Role.MENTOR, network_id=network_id).values("user_id")


@dataclass
class RankedMentor:
    """A mentor a coordinator may propose for a mentee, with the fit on the 0–100 scale and its reasons."""

    card: MentorCard
    score: float
    reasons: list[str]

    @property
    def fit(self) -> int:
        return fit_out_of_100(self.score)

    @property
    def free_places(self) -> int:
        return self.card.capacity - self.card.active_mentees


def mentors_to_propose(membership: SchemeMembership, *, limit: int = 25) -> list[RankedMentor]:
    """The mentors of the mentee's network in the scheme with a free place, best fit first, with the reasons, the
    same scoring as the mentee's suggestions (R-MATCH-1, R-MATCH-3). Former partners, recent declines and
    mentors the mentee is waiting on are left out (R-MATCH-7). Read from the listing table: the same few
    queries whatever the number of mentors."""
    scheme, mentee = membership.scheme, membership.user
    listing.ensure_built(scheme)
    needs = needs_for(mentee) or MenteeNeeds(mentee.pk, None, 0, None, "")
    rows = ranking.top(
        scheme.pk,
        needs,
        exclude=excluded_mentor_ids(mentee, scheme),
        limit=limit,
        only=network_mentor_ids(scheme, membership.network_id),
    )
    lookup = names()
    ranked = []
    for row in rows:
        suggestion = score(needs, listing.offer_of(row))
        reasons = explain(suggestion, lookup, to_mentee=False)
        ranked.append(RankedMentor(card_of(row, lookup, reasons), suggestion.score, reasons))
    return ranked


def mentor_may_be_proposed(membership: SchemeMembership, mentor_id: int) -> bool:
    """Whether `mentor_id` is a listed mentor of the mentee's network with a free place (the choices above)."""
    return (
        listing.with_free_places(membership.scheme)
        .filter(mentor_id=mentor_id, mentor_id__in=network_mentor_ids(membership.scheme, membership.network_id))
        .exists()
    )


def why_not_to_pair(membership: SchemeMembership, viewer) -> str:
    """Why a waiting mentee is not among those a coordinator may propose a mentor for, in words `viewer` may read."""
    name = membership.user.get_full_name()
    if PairingProposal.objects.open().filter(mentee=membership.user, scheme=membership.scheme).exists():
        return f"{name} has a proposed pairing waiting for the members to confirm."
    check = eligibility.check(membership.user, membership.scheme, Role.MENTEE, membership=membership)
    if not check.ok:
        return f"{name} cannot be paired yet: {' '.join(check.reasons_for(viewer))}"
    return f"{name} cannot be paired just now."
