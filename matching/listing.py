"""Who is listed, and the in-process index of listed mentors that suggestions rank.

`listed_profiles` is the one definition of a listed mentor: an approved profile
whose mentor the eligibility engine finds eligible today (R-PROFILE-3, R-ELIG-6).
The index keeps those mentors as plain data in each process and rebuilds when
`listing_changed` was called (matching/signals.py), on a new day, or after
LISTING_TTL_SECONDS as a safety net.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections import defaultdict

from django.core.cache import cache
from django.utils import timezone
from django_countries import countries

from accounts.models import Language
from matching.models import MentorProfile, Sector
from matching.suggest import MentorOffer, Names, mask_of
from mentoring.models import Role, Scheme
from mentoring.selectors import active_mentees_column
from safeguarding import eligibility


def listed_profiles(scheme: Scheme, *, today: datetime.date | None = None):
    """Mentor profiles mentees of `scheme` may see: approved, and the mentor eligible today (R-PROFILE-3)."""
    return MentorProfile.objects.filter(
        status=MentorProfile.Status.APPROVED,
        user__in=eligibility.eligible_users(scheme, Role.MENTOR, today=today),
    )


def with_places(profiles):
    """Annotate each profile with its active mentee count (one query, not one per profile)."""
    return profiles.annotate(active_mentees=active_mentees_column("user"))


LISTING_VERSION_KEY = "matching:listing-version"
LISTING_TTL_SECONDS = 300
_listing_cache: dict[tuple[int, datetime.date], tuple[str, float, dict[int, MentorOffer]]] = {}
_names_cache: dict[str, tuple[str, Names]] = {}


def listing_changed() -> None:
    """Something a listing depends on changed: every process rebuilds its index on next use.

    The version lives in the shared cache (Redis in production), so one change
    reaches every web process; a random token, so a cleared cache never matches
    an old index.
    """
    cache.set(LISTING_VERSION_KEY, uuid.uuid4().hex, None)


def _version() -> str:
    return cache.get_or_set(LISTING_VERSION_KEY, lambda: uuid.uuid4().hex, None)


def offers_for(scheme: Scheme) -> dict[int, MentorOffer]:
    """Every listed, accepting mentor of `scheme` as plain data, keyed by mentor (user) id.

    Do not modify the returned dict: it is shared by every request of this process.
    """
    version = _version()
    key = (scheme.pk, timezone.localdate())
    cached = _listing_cache.get(key)
    if cached and cached[0] == version and time.monotonic() - cached[1] < LISTING_TTL_SECONDS:
        return cached[2]
    offers = load_offers(scheme)
    if len(_listing_cache) > 64:  # old days and schemes: start afresh rather than grow
        _listing_cache.clear()
    _listing_cache[key] = (version, time.monotonic(), offers)
    return offers


def load_offers(scheme: Scheme) -> dict[int, MentorOffer]:
    """Fresh from the database, in three queries: profiles with their free places, expertise, languages."""
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


def names() -> Names:
    """Sector, language and country names for the reasons, cached like the index."""
    version = _version()
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
