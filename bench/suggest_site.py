"""Suggestions as the site serves them: from the database to ranked mentors with reasons.

Builds N listed mentors (bulk inserts) in a throw-away database, then times
`matching.selectors.suggestions_for` for sampled mentees. Prints key=value lines:
  listed_mentors, listing_build_ms, listing_idle_refresh_ms, site_suggest_p50_ms, site_suggest_p95_ms,
  site_suggest_queries

Usage: python bench/suggest_site.py [--quick]
DATABASE_URL picks the database (an existing, empty one: it is migrated and filled);
by default a temporary SQLite file.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(database_url: str | None) -> None:
    if database_url is None:
        database_url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentoring.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()


def build(n_mentors: int, n_mentees: int, seed: int = 7):
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import Language
    from matching.models import ExpertiseArea, MenteeProfile, MentorProfile, Sector
    from mentoring.models import (
        DocumentKind,
        LocalNetwork,
        Role,
        Scheme,
        SchemeMembership,
        TermsAcceptance,
        TermsVersion,
    )
    from safeguarding.models import TrainingKind, TrainingRecord

    rng = random.Random(seed)
    User = get_user_model()
    today = timezone.localdate()
    scheme = Scheme.objects.create(name="Bench scheme", slug="bench")
    network = LocalNetwork.objects.create(name="Bench network", slug="bench")
    versions = [
        TermsVersion.objects.create(kind=k, version="1", title=k, body="x", published_at=timezone.now())
        for k in (DocumentKind.TERMS, DocumentKind.CODE_OF_CONDUCT, DocumentKind.PRIVACY_NOTICE)
    ]
    sectors = Sector.objects.bulk_create([Sector(name=f"Sector {i}") for i in range(40)])
    areas = ExpertiseArea.objects.bulk_create([ExpertiseArea(name=f"Area {i}") for i in range(60)])
    languages = list(Language.objects.all()[:12])
    countries = ["GB", "FR", "DE", "ES", "IN", "PL", "IE", "NL", "US", "CA", "AU", "NG", "KE", "ZA", "SG"]
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench{i}@example.org",
                first_name=f"M{i}",
                last_name="Bench",
                password="!",
                date_of_birth=datetime.date(1980, 1, 1),
                membership_number=f"{30000000 + i}",
                membership_status="active",
                membership_expires_on=today + datetime.timedelta(days=365),
                country="GB",
            )
            for i in range(n_mentors + n_mentees)
        ],
        batch_size=2000,
    )
    mentors, mentees = users[:n_mentors], users[n_mentors:]
    SchemeMembership.objects.bulk_create(
        [SchemeMembership(user=u, scheme=scheme, role=Role.MENTOR, network=network, status="active") for u in mentors]
        + [
            SchemeMembership(user=u, scheme=scheme, role=Role.MENTEE, network=network, status="active") for u in mentees
        ],
        batch_size=2000,
    )
    TermsAcceptance.objects.bulk_create(
        [TermsAcceptance(user=u, version=v) for u in users for v in versions], batch_size=5000
    )
    TrainingRecord.objects.bulk_create(
        [TrainingRecord(user=u, kind=k, completed_on=today) for u in mentors for k in TrainingKind], batch_size=5000
    )
    profiles = MentorProfile.objects.bulk_create(
        [
            MentorProfile(
                user=u,
                role_title="Engineer",
                work_history="x",
                sector=rng.choice(sectors),
                country=rng.choice(countries),
                capacity=rng.randint(1, 5),
                status="approved",
            )
            for u in mentors
        ],
        batch_size=2000,
    )
    Through = MentorProfile.expertise.through
    Through.objects.bulk_create(
        [
            Through(mentorprofile_id=p.pk, expertisearea_id=a.pk)
            for p in profiles
            for a in rng.sample(areas, rng.randint(2, 6))
        ],
        batch_size=5000,
    )
    LThrough = MentorProfile.languages.through
    LThrough.objects.bulk_create(
        [
            LThrough(mentorprofile_id=p.pk, language_id=lang.pk)
            for p in profiles
            for lang in rng.sample(languages, rng.randint(1, 3))
        ],
        batch_size=5000,
    )
    goals = MenteeProfile.objects.bulk_create(
        [
            MenteeProfile(
                user=u,
                goals="x",
                sector=rng.choice(sectors),
                language=rng.choice(languages),
                country=rng.choice(countries),
            )
            for u in mentees
        ]
    )
    GThrough = MenteeProfile.expertise.through
    GThrough.objects.bulk_create(
        [
            GThrough(menteeprofile_id=g.pk, expertisearea_id=a.pk)
            for g in goals
            for a in rng.sample(areas, rng.randint(1, 3))
        ]
    )
    return scheme, mentees


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 mentors instead of 10,000")
    args = parser.parse_args()
    n_mentors = 1_000 if args.quick else 10_000
    setup_django(os.environ.get("DATABASE_URL"))

    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    print(f"building {n_mentors} mentors", file=sys.stderr)
    scheme, mentees = build(n_mentors, 100)

    from matching import listing, selectors
    from matching.models import MentorListing

    start = time.perf_counter()
    listing.refresh_all()  # bulk inserts send no signals: build the listing table once, as a deployment would
    build_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    listing.refresh_all()  # nothing changed: how long the scheduled job takes when it writes nothing
    idle_refresh_ms = (time.perf_counter() - start) * 1000
    listed = MentorListing.objects.filter(scheme=scheme).count()
    timings, queries = [], 0
    for mentee in mentees:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            selectors.suggestions_for(mentee, scheme, limit=10)
            timings.append((time.perf_counter() - start) * 1000)
        queries = max(queries, len(captured.captured_queries))
        reset_queries()
    timings.sort()
    print(f"listed_mentors={listed}")
    print(f"listing_build_ms={build_ms:.1f}")
    print(f"listing_idle_refresh_ms={idle_refresh_ms:.1f}")
    print(f"site_suggest_p50_ms={statistics.median(timings):.1f}")
    print(f"site_suggest_p95_ms={timings[int(0.95 * (len(timings) - 1))]:.1f}")
    print(f"site_suggest_queries={queries}")


if __name__ == "__main__":
    main()
