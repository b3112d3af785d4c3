"""Shared reads for matching: search, suggestions, the waiting list. Query counts do not grow with rows."""

from __future__ import annotations

import datetime
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django_countries import countries

from accounts.models import Language
from matching.models import MenteeProfile, MentorProfile, MentorshipRequest, Sector
from matching.services import listed_profiles
from matching.suggest import MenteeNeeds, MentorOffer, Names, Suggestion, explain, mask_of, rank
from mentoring.models import Pairing, Role, Scheme, SchemeMembership

# A declined mentor is not suggested again for this long (R-MATCH-7).
DECLINE_COOLDOWN = datetime.timedelta(days=90)


def with_places(profiles):
    """Annotate each profile with its active mentee count (one query, not one per profile)."""
    return profiles.annotate(
        active_mentees=Count("user__pairings_as_mentor", filter=Q(user__pairings_as_mentor__status="active"))
    )


def mentor_search(scheme: Scheme, *, sector=None, expertise=None, language=None, country="", availability=""):
    """Listed mentors of `scheme` filtered as the search form asks, ready to render."""
    profiles = listed_profiles(scheme)
    if sector:
        profiles = profiles.filter(sector=sector)
    if expertise:
        profiles = profiles.filter(expertise=expertise)
    if language:
        profiles = profiles.filter(languages=language)
    if country:
        profiles = profiles.filter(country=country)
    if availability:
        profiles = profiles.filter(availability=availability)
    return (
        with_places(profiles)
        .select_related("user", "sector")
        .prefetch_related("expertise", "languages")
        .order_by("user__first_name", "pk")
    )


LISTING_VERSION_KEY = "matching:listing-version"
LISTING_TTL_SECONDS = 300
_listing_cache: dict[tuple[int, datetime.date], tuple[str, float, dict[int, MentorOffer]]] = {}


def listing_changed() -> None:
    """Something a listing depends on changed: every process rebuilds its index on next use.

    The version lives in the shared cache (Redis in production), so one change
    reaches every web process; a random token, so a cleared cache never matches
    an old index.
    """
    cache.set(LISTING_VERSION_KEY, uuid.uuid4().hex, None)


def offers_for(scheme: Scheme) -> dict[int, MentorOffer]:
    """Every listed, accepting mentor of `scheme` as plain data, keyed by mentor (user) id.

    Kept in memory per process and rebuilt when `listing_changed` was called (see
    matching/signals.py), on a new day (eligibility depends on the date), or after
    LISTING_TTL_SECONDS as a safety net. Do not modify the returned dict.
    """
    version = cache.get_or_set(LISTING_VERSION_KEY, lambda: uuid.uuid4().hex, None)
    key = (scheme.pk, timezone.localdate())
    cached = _listing_cache.get(key)
    if cached and cached[0] == version and time.monotonic() - cached[1] < LISTING_TTL_SECONDS:
        return cached[2]
    offers = _load_offers(scheme)
    if len(_listing_cache) > 64:  # old days and schemes: start afresh rather than grow
        _listing_cache.clear()
    _listing_cache[key] = (version, time.monotonic(), offers)
    return offers


def _load_offers(scheme: Scheme) -> dict[int, MentorOffer]:
    """Three queries: profiles with their free places, their expertise, their languages."""
    profiles = with_places(listed_profiles(scheme).filter(availability=MentorProfile.Availability.ACCEPTING))
    rows = list(profiles.values_list("pk", "user_id", "sector_id", "country", "capacity", "active_mentees"))
    profile_ids = [row[0] for row in rows]
    expertise, languages = defaultdict(set), defaultdict(set)
    for profile_id, area_id in MentorProfile.expertise.through.objects.filter(
        mentorprofile_id__in=profile_ids
    ).values_list("mentorprofile_id", "expertisearea_id"):
        expertise[profile_id].add(area_id)
    for profile_id, language_id in MentorProfile.languages.through.objects.filter(
        mentorprofile_id__in=profile_ids
    ).values_list("mentorprofile_id", "language_id"):
        languages[profile_id].add(language_id)
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


def excluded_mentors(mentee, scheme: Scheme, *, now: datetime.datetime | None = None) -> set[int]:
    """Mentors not to suggest: former or current partners, recent declines, requests waiting (R-MATCH-7)."""
    now = now or timezone.now()
    partners = Pairing.objects.filter(mentee=mentee).values_list("mentor_id", flat=True)
    asked = (
        MentorshipRequest.objects.filter(mentee=mentee, scheme=scheme)
        .filter(
            Q(status=MentorshipRequest.Status.PENDING)
            | Q(status=MentorshipRequest.Status.DECLINED, responded_at__gte=now - DECLINE_COOLDOWN)
        )
        .values_list("mentor_id", flat=True)
    )
    return set(partners) | set(asked)


def names() -> Names:
    version = cache.get_or_set(LISTING_VERSION_KEY, lambda: uuid.uuid4().hex, None)
    cached = _names_cache.get("names")
    if cached and cached[0] == version:
        return cached[1]
    value = Names(
        sectors=dict(Sector.objects.values_list("pk", "name")),
        languages=dict(Language.objects.values_list("pk", "name")),
        countries=dict(countries),
    )
    _names_cache["names"] = (version, value)
    return value


_names_cache: dict[str, tuple[str, Names]] = {}


@dataclass
class SuggestedMentor:
    profile: MentorProfile
    suggestion: Suggestion
    reasons: list[str]


def suggestions_for(mentee, scheme: Scheme, *, limit: int = 5) -> list[SuggestedMentor]:
    """Ranked mentors for this mentee with the reasons in words; empty until they set their goals."""
    needs = needs_for(mentee)
    if needs is None:
        return []
    offers = offers_for(scheme)
    ranked = rank(needs, offers.values(), limit=limit, exclude=excluded_mentors(mentee, scheme) | {mentee.pk})
    profiles = {
        p.user_id: p
        for p in with_places(MentorProfile.objects.filter(user_id__in=[s.mentor_id for s in ranked]))
        .select_related("user", "sector")
        .prefetch_related("expertise", "languages")
    }
    lookup = names()
    return [SuggestedMentor(profiles[s.mentor_id], s, explain(s, lookup)) for s in ranked]


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
    from safeguarding import eligibility

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
    left_out: dict[int, str] = {}
    for user_id in waiting_ids:
        if user_id not in eligible:
            left_out[user_id] = "not eligible yet (see their onboarding checklist)"
        elif user_id not in with_goals:
            left_out[user_id] = "has not set out their goals"
        elif user_id in pending:
            left_out[user_id] = "has a request waiting for a mentor's answer"
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
    offers = _load_offers(scheme)  # fresh: cohort matching must see every place as it is now
    if network is not None:
        in_network = set(
            SchemeMembership.objects.filter(scheme=scheme, role=Role.MENTOR, network=network).values_list(
                "user_id", flat=True
            )
        )
        offers = {k: v for k, v in offers.items() if k in in_network}
    exclude = defaultdict(set)
    for mentee_id, mentor_id in Pairing.objects.filter(mentee_id__in=mentee_ids).values_list("mentee_id", "mentor_id"):
        exclude[mentee_id].add(mentor_id)
    for mentee_id, mentor_id in MentorshipRequest.objects.filter(
        mentee_id__in=mentee_ids,
        scheme=scheme,
        status=MentorshipRequest.Status.DECLINED,
        responded_at__gte=timezone.now() - DECLINE_COOLDOWN,
    ).values_list("mentee_id", "mentor_id"):
        exclude[mentee_id].add(mentor_id)
    for mentee in mentees:
        exclude[mentee.mentee_id].add(mentee.mentee_id)  # never oneself
    return CohortInputs(mentees, [o for o in offers.values() if o.free_places > 0], dict(exclude), left_out)
