"""A large demo data set for benchmarks and scale checks (issue 11, item 6): `seed_demo --large`.

Three years of a scheme that has grown: by default 20,000 members over twelve Local Networks and a dozen
countries, 50,000 pairings (active and ended, with reasons), their requests, meetings, feedback, End of
Pairing records, conversations with 500,000 messages, and the notices the platform sent. Every row goes in
with `bulk_create` in batches, so it takes minutes, not hours; bulk inserts send no signals, so what is
derived from these rows (the mentor listing and its cached counts) is rebuilt at the end, as a deployment
would.

The data is coherent, not just many rows: a pairing's mentor and mentee are members of its scheme in those
roles, and its network is the mentee's; a member has at most one active pairing per scheme as a mentee; no
mentor has more active pairings than the capacity on their profile; the active ones' mentors are approved
and taking part; a conversation is its pairing's, between its two members, and read-only once it ended;
each message is written by one of them within the pairing's life; meetings and feedback fall within it too.
tests/mentoring/test_seed_large.py checks these on a small run.
"""

from __future__ import annotations

import datetime
import enum
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Language, MembershipStatus
from matching import listing
from matching.models import ExpertiseArea, MenteeProfile, MentorProfile, MentorshipRequest, Sector
from mentoring.models import (
    EndOfPairing,
    Feedback,
    FeedbackRequest,
    LocalNetwork,
    Meeting,
    Pairing,
    Role,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    TermsVersion,
)
from messaging.models import Conversation, HeldMessage, Message, Notification
from safeguarding import eligible_table
from safeguarding.models import DBSCheck, TrainingKind, TrainingRecord

UTC = datetime.UTC
DAY = datetime.timedelta(days=1)
HISTORY_DAYS = 3 * 365  # members joined over the last three years
EMAIL_DOMAIN = "large.example.org"
FIRST_NUMBER = 20_000_000  # membership numbers of the large set: 20000000 upwards (the demo logins use 1000xxxx)
BATCH = 5_000

# (slug, name, region, weight, countries its members live in, weighted)
NETWORKS = [
    ("london", "London", "England", 20, ["GB"] * 12 + ["IE", "FR", "IN"]),
    ("north-west", "North West", "England", 9, ["GB"] * 15 + ["IE"]),
    ("scotland", "Scotland", "Scotland", 7, ["GB"] * 15 + ["IE"]),
    ("south-east", "South East", "England", 10, ["GB"] * 14 + ["FR", "DE"]),
    ("midlands", "Midlands", "England", 9, ["GB"] * 15 + ["PL"]),
    ("yorkshire", "Yorkshire and the Humber", "England", 6, ["GB"]),
    ("wales", "Wales", "Wales", 4, ["GB"]),
    ("northern-ireland", "Northern Ireland", "Northern Ireland", 4, ["GB"] * 3 + ["IE"]),
    ("india", "India", "International", 10, ["IN"]),
    ("hong-kong", "Hong Kong", "International", 5, ["HK"] * 5 + ["SG"]),
    ("americas", "Americas", "International", 6, ["US"] * 3 + ["CA"]),
    ("europe", "Europe", "International", 6, ["DE", "FR", "ES", "PL", "NL", "IE"]),
]
TIME_ZONES = {
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "ES": "Europe/Madrid",
    "PL": "Europe/Warsaw",
    "NL": "Europe/Amsterdam",
    "IN": "Asia/Kolkata",
    "HK": "Asia/Hong_Kong",
    "SG": "Asia/Singapore",
    "US": "America/New_York",
    "CA": "America/Toronto",
}
FIRST_NAMES = (  # noqa: SIM905  one line of names reads better than a column of fifty
    "Aisha Ben Chloe Daniel Emeka Fatima George Hannah Ibrahim Jack Kavya Liam Maya Noah Olivia Priya "
    "Quentin Rosa Samuel Tara Umar Valentina William Xin Yusuf Zara Arjun Bethan Callum Deepa Ewan Fiona "
    "Gareth Helen Isla Jamal Keira Lucas Mei Niamh Owen Pooja Rhys Siobhan Tomasz Una Victor Wen Yasmin "
    "Zoltan"
).split()
LAST_NAMES = (  # noqa: SIM905  one line of names reads better than a column of fifty
    "Adams Bennett Campbell Davies Edwards Fraser Gupta Hughes Iqbal Jones Kaur Lewis Murphy Nowak Okafor "
    "Patel Quinn Roberts Singh Taylor Usman Vaughan Walsh Xu Young Zhang Ahmed Brown Chen Dubois Evans "
    "Fischer Garcia Harris Ito Jackson Kelly Lopez Morgan Nguyen O'Brien Price Reid Smith Thomas Wilson"
).split()
MESSAGES = [
    "Thanks for today's session, it helped a lot.",
    "Could we move next week's meeting to Thursday?",
    "I have drafted the competence statement we talked about; could you read it?",
    "Here are my notes on the UK-SPEC competences I still need evidence for.",
    "Good luck with the interview tomorrow!",
    "I looked at the project plan: the risk register needs owners for each risk.",
    "What would you do differently if you were starting this role again?",
    "I spoke to my manager about the secondment, and she is supportive.",
    "Let's review your progress against the goals at our next meeting.",
    "I found a good article on leading teams through change; I'll bring it along.",
    "The presentation went well, thank you for the practice run.",
    "Could you share an example of a report you were proud of?",
    "I am away for two weeks from Monday; let's pick up when I'm back.",
    "I've updated my CPD record with the workshop from last month.",
    "How did the conversation with the site team go?",
    "Yes, that time works for me.",
    "I'd like to talk about moving from design into project management.",
    "My application is submitted! Now waiting for the interview date.",
]
END_REASONS = [
    (Pairing.EndReason.GOALS_MET, 45),
    (Pairing.EndReason.LACK_OF_COMMUNICATION, 14),
    (Pairing.EndReason.DIFFERENCES, 10),
    (Pairing.EndReason.OTHER, 12),
    (Pairing.EndReason.CONFLICT, 3),
    (Pairing.EndReason.WITHDRAWAL, 12),
    (Pairing.EndReason.SCHEME_CLOSED, 4),
]
RATINGS = [(1, 4), (2, 8), (3, 20), (4, 38), (5, 30)]


@dataclass(frozen=True)
class Sizes:
    members: int = 20_000
    pairings: int = 50_000
    messages: int = 500_000


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


class Batches:
    """Rows of one model collected as column values and inserted many at a time, so memory stays flat.

    On PostgreSQL with COPY (no model instances at all: five to ten times faster than bulk_create on the
    hundreds of thousands of messages); elsewhere with bulk_create. A column not given takes the field's
    default, as a save would.
    """

    def __init__(self, model):
        self.model, self.rows, self.count = model, [], 0
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]

    def add(self, **values) -> None:
        row = []
        for f in self.fields:
            value = values[f.attname] if f.attname in values else values.get(f.name, NOT_GIVEN)
            if value is NOT_GIVEN:
                value = f.get_default()
            elif isinstance(value, models.Model):
                value = value.pk
            if isinstance(value, enum.Enum):
                value = value.value
            row.append(value)
        self.rows.append(row)
        if len(self.rows) >= BATCH * 4:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in self.fields)
            statement = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            names = [f.attname for f in self.fields]
            self.model.objects.bulk_create(
                [self.model(**dict(zip(names, row, strict=True))) for row in self.rows], batch_size=BATCH
            )
        self.count += len(self.rows)
        self.rows = []


NOT_GIVEN = object()


@dataclass
class MemberRow:
    user_id: int
    network_id: int
    joined: datetime.datetime


def seed_large(sizes: Sizes, *, say: Callable[[str], None], seed: int = 11) -> dict[str, int]:
    """Add the large data set to a database that `seed_demo` has set up (schemes, networks, documents,
    sectors, areas). Returns the number of rows of each kind it made. Refuses to run twice."""
    User = get_user_model()
    if User.objects.filter(email__endswith="@" + EMAIL_DOMAIN).exists():
        say("The large data set is already here: nothing to do.")
        return {}
    rng = random.Random(seed)  # noqa: S311  demo data, not secrets
    started = last = time.perf_counter()
    counts: dict[str, int] = {}

    def step(what: str, n: int | None = None) -> None:
        nonlocal last
        now_ = time.perf_counter()
        if n is not None:
            counts[what] = n
        figure = f"{n:,} " if n is not None else ""
        say(f"  {figure}{what}: {now_ - last:.1f} s")
        last = now_

    now = timezone.now().astimezone(UTC)
    today = now.date()
    first_day = now - HISTORY_DAYS * DAY
    career = Scheme.objects.get(slug="career")
    registration = Scheme.objects.get(slug="professional-registration")
    schemes = [(career, 3), (registration, 1)]
    coordinator = User.objects.filter(groups__name=settings.GROUP_COORDINATORS).order_by("pk").first()
    versions = list(TermsVersion.objects.current_to_accept())
    sectors = list(Sector.objects.order_by("pk"))
    areas = list(ExpertiseArea.objects.order_by("pk"))
    languages = {lang.code: lang for lang in Language.objects.filter(code__in=["en", "fr", "de", "es", "hi", "pl"])}
    english = languages["en"]
    with transaction.atomic():
        networks = []
        for slug, name, region, weight, countries in NETWORKS:
            network, _ = LocalNetwork.objects.get_or_create(slug=slug, defaults={"name": name, "region": region})
            networks.append((network, weight, countries))
        step("networks", len(networks))

        # Members: a third mentors, two thirds mentees; one mentor in twelve is also a mentee in the other scheme.
        people = []
        for _ in range(sizes.members):
            network, _, countries = rng.choices(networks, [w for _, w, _ in networks])[0]
            country = rng.choice(countries)
            joined = first_day + datetime.timedelta(seconds=rng.uniform(0, (HISTORY_DAYS - 3) * 86400))
            status = weighted(
                rng, [(MembershipStatus.ACTIVE, 95), (MembershipStatus.LAPSED, 3), (MembershipStatus.UNVERIFIED, 2)]
            )
            people.append((network, country, joined, status))
        users = User.objects.bulk_create(
            [
                User(
                    email=f"member{i:06d}@{EMAIL_DOMAIN}",
                    password="!",  # no password: the large set's members never sign in (the demo logins do)
                    first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
                    date_of_birth=datetime.date(rng.randint(1955, 2004), rng.randint(1, 12), rng.randint(1, 28)),
                    membership_number=str(FIRST_NUMBER + i),
                    membership_grade=rng.choice(["Member", "Member", "Associate", "Fellow"]),
                    membership_status=status,
                    membership_expires_on=today + rng.randint(30, 700) * DAY
                    if status == MembershipStatus.ACTIVE
                    else today - rng.randint(1, 300) * DAY,
                    country=country,
                    time_zone=TIME_ZONES[country],
                    date_joined=joined,
                )
                for i, (network, country, joined, status) in enumerate(people)
            ],
            batch_size=BATCH,
        )
        step("members", len(users))

        memberships = []
        mentors_of: dict[int, list[MemberRow]] = defaultdict(list)  # scheme id -> mentor memberships
        mentees_of: list[tuple[Scheme, MemberRow, str]] = []  # mentee memberships, with their status
        mentor_scheme: dict[int, Scheme] = {}
        member_status = [
            (SchemeMembership.Status.ACTIVE, 88),
            (SchemeMembership.Status.PENDING, 4),
            (SchemeMembership.Status.PAUSED, 4),
            (SchemeMembership.Status.WITHDRAWN, 4),
        ]
        for user, (network, _, joined, _) in zip(users, people, strict=True):
            scheme = weighted(rng, schemes)
            role = Role.MENTOR if rng.random() < 0.35 else Role.MENTEE
            status = weighted(rng, member_status)
            joins = [(scheme, role, joined, status)]
            if role == Role.MENTOR and rng.random() < 1 / 12:
                other = registration if scheme == career else career
                joins.append((other, Role.MENTEE, joined + rng.randint(1, 60) * DAY, SchemeMembership.Status.ACTIVE))
            for scheme_, role_, joined_, status_ in joins:
                joined_ = min(joined_, now - DAY)
                memberships.append(
                    SchemeMembership(
                        user=user,
                        scheme=scheme_,
                        role=role_,
                        network=network,
                        status=status_,
                        joined_at=joined_,
                        status_changed_at=joined_,
                    )
                )
                row = MemberRow(user.pk, network.pk, joined_)
                if role_ == Role.MENTOR:
                    mentors_of[scheme_.pk].append(row)
                    mentor_scheme[user.pk] = scheme_
                else:
                    mentees_of.append((scheme_, row, status_))
        SchemeMembership.objects.bulk_create(memberships, batch_size=BATCH)
        step("scheme memberships", len(memberships))
        membership_status = {(m.user_id, m.scheme_id, m.role): m.status for m in memberships}

        # What eligibility reads: accepted documents (all but 3%), mentors' training (all but 6%), DBS checks.
        acceptances = Batches(TermsAcceptance)
        for user, (_, _, joined, _) in zip(users, people, strict=True):
            if rng.random() < 0.97:
                for version in versions:
                    acceptances.add(user=user, version=version, accepted_at=joined)
        acceptances.flush()
        step("terms acceptances", acceptances.count)

        mentor_ids = list(mentor_scheme)
        country_of = {user.pk: country for user, (_, country, _, _) in zip(users, people, strict=True)}
        training = Batches(TrainingRecord)
        dbs = Batches(DBSCheck)
        for user_id in mentor_ids:
            lapsed = rng.random() < 0.06
            for kind in TrainingKind:
                completed = today - rng.randint(30, 900) * DAY
                expires = today - rng.randint(1, 20) * DAY if lapsed else today + rng.randint(200, 1100) * DAY
                training.add(
                    user_id=user_id,
                    kind=kind,
                    completed_on=min(completed, expires - DAY),
                    expires_on=expires,
                    recorded_by=coordinator,
                )
            if mentor_scheme[user_id].dbs_required:
                status = weighted(
                    rng, [(DBSCheck.Status.CLEARED, 88), (DBSCheck.Status.SUBMITTED, 8), (DBSCheck.Status.REFUSED, 4)]
                )
                requested = today - rng.randint(20, 700) * DAY
                dbs.add(
                    user_id=user_id,
                    level=DBSCheck.Level.BASIC,
                    level_reason="Basic: mentoring adults is not regulated activity.",
                    status=status,
                    requested_on=requested,
                    submitted_on=requested + 3 * DAY,
                    cleared_on=requested + 14 * DAY if status == DBSCheck.Status.CLEARED else None,
                )
        training.flush()
        dbs.flush()
        step("training records", training.count)
        step("DBS checks", dbs.count)

        # Profiles: mentors' (most approved) with areas and languages; four mentees in five set goals.
        profile_status = [
            (MentorProfile.Status.APPROVED, 86),
            (MentorProfile.Status.SUBMITTED, 7),
            (MentorProfile.Status.CHANGES_REQUESTED, 3),
            (MentorProfile.Status.DRAFT, 4),
        ]
        profiles = MentorProfile.objects.bulk_create(
            [
                MentorProfile(
                    user_id=user_id,
                    role_title=rng.choice(["Chartered engineer", "Project manager", "Principal engineer", "Director"]),
                    work_history="Twenty years across design, delivery and leading teams.",
                    sector=rng.choice(sectors),
                    country=country_of[user_id],
                    capacity=weighted(rng, [(1, 20), (2, 35), (3, 25), (4, 12), (5, 8)]),
                    status=weighted(rng, profile_status),
                    reviewed_by=coordinator,
                    reviewed_at=now - rng.randint(1, 700) * DAY,
                    submitted_at=now - rng.randint(1, 700) * DAY,
                )
                for user_id in mentor_ids
            ],
            batch_size=BATCH,
        )
        capacity = {p.user_id: p.capacity for p in profiles}
        approved = {p.user_id for p in profiles if p.status == MentorProfile.Status.APPROVED}
        expertise, spoken = MentorProfile.expertise.through, MentorProfile.languages.through
        language_list = list(languages.values())
        expertise.objects.bulk_create(
            [expertise(mentorprofile_id=p.pk, expertisearea_id=a.pk) for p in profiles for a in rng.sample(areas, 3)],
            batch_size=BATCH,
        )
        spoken.objects.bulk_create(
            [
                spoken(mentorprofile_id=p.pk, language_id=lang.pk)
                for p in profiles
                for lang in {english, rng.choice(language_list)}
            ],
            batch_size=BATCH,
        )
        step("mentor profiles", len(profiles))
        mentee_users = sorted({row.user_id for _, row, _ in mentees_of})
        goals = MenteeProfile.objects.bulk_create(
            [
                MenteeProfile(
                    user_id=user_id,
                    goals="Work towards professional registration and lead a team with confidence.",
                    sector=rng.choice(sectors),
                    language=english,
                    country=rng.choice(["", "GB", "IN"]),
                )
                for user_id in mentee_users
                if rng.random() < 0.8
            ],
            batch_size=BATCH,
        )
        wanted = MenteeProfile.expertise.through
        wanted.objects.bulk_create(
            [wanted(menteeprofile_id=g.pk, expertisearea_id=a.pk) for g in goals for a in rng.sample(areas, 2)],
            batch_size=BATCH,
        )
        step("mentee profiles", len(goals))

        pairings = _pairings(rng, sizes, now, mentees_of, mentors_of, capacity, approved, membership_status)
        for pairing in pairings:
            if pairing.origin != Pairing.Origin.REQUEST:
                pairing.created_by = coordinator
        pairings = Pairing.objects.bulk_create(pairings, batch_size=BATCH)
        step("pairings", len(pairings))
        ended = [p for p in pairings if p.status == Pairing.Status.ENDED]
        ends = Batches(EndOfPairing)
        for p in ended:
            ends.add(
                pairing_id=p.pk,
                ended_by_id=None if p.end_reason == Pairing.EndReason.SCHEME_CLOSED else p.mentee_id,
                reason=p.end_reason,
                comments="We met regularly and covered what we set out to." if rng.random() < 0.5 else "",
                created_at=p.ended_at,
            )
        ends.flush()
        step("End of Pairing records", len(ended))

        step("mentorship requests", _requests(rng, now, pairings, mentees_of, mentors_of))
        step("meetings", _meetings(rng, now, pairings))
        step("feedback", _feedback(rng, now, pairings))

        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    pairing=p,
                    first_member_id=p.mentor_id,
                    second_member_id=p.mentee_id,
                    read_only=p.status == Pairing.Status.ENDED,
                    created_at=p.started_at,
                )
                for p in pairings
            ],
            batch_size=BATCH,
        )
        step("conversations", len(conversations))
        step("messages", _messages(rng, now, pairings, conversations, sizes.messages))

        notices = Batches(Notification)
        for p in pairings:
            for user_id in (p.mentor_id, p.mentee_id):
                notices.add(
                    user_id=user_id,
                    kind="pairing_started",
                    title="You are paired",
                    url=f"/pairings/{p.pk}/",
                    created_at=p.started_at,
                    read_at=p.started_at + DAY if p.started_at < now - 7 * DAY else None,
                )
                if p.status == Pairing.Status.ENDED:
                    notices.add(
                        user_id=user_id,
                        kind="pairing_ended",
                        title="Your pairing has ended",
                        url=f"/pairings/{p.pk}/",
                        created_at=p.ended_at,
                        read_at=p.ended_at + DAY,
                    )
        notices.flush()
        step("notifications", notices.count)

    # Derived state that signals keep in line on ordinary saves: the listing table (and its cached counts).
    listing.refresh_all()
    listing.names_changed()
    step("mentor listing rebuilt")
    eligible_table.refresh_all()
    step("eligible memberships judged")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        step("ANALYZE")
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


def _pairings(rng, sizes, now, mentees_of, mentors_of, capacity, approved, membership_status) -> list[Pairing]:
    """Each mentee membership's pairings one after another from a little after joining until now.

    Nine in ten mentee memberships have had a mentor; the total is shared among them by how long they have
    been members, so the oldest have had several. The last may still be active: only with a mentor who is
    approved, taking part and has a free place (no mentor is ever over capacity).
    """
    taking_part = (SchemeMembership.Status.ACTIVE, SchemeMembership.Status.PENDING)
    paired = [(s, row, status) for s, row, status in mentees_of if rng.random() < 0.9]
    starts = [row.joined + rng.randint(2, 45) * DAY for _, row, _ in paired]
    spans = [max((now - start).total_seconds(), 0.0) for start in starts]
    total_span = sum(spans) or 1.0
    shares = [sizes.pairings * span / total_span for span in spans]
    how_many = [int(share) for share in shares]
    short = sizes.pairings - sum(how_many)
    by_remainder = sorted(range(len(shares)), key=lambda i: shares[i] - how_many[i], reverse=True)
    for i in by_remainder[:short]:
        how_many[i] += 1
    active_count: dict[int, int] = defaultdict(int)
    can_take = {
        scheme_id: [
            row.user_id
            for row in rows
            if row.user_id in approved and membership_status[(row.user_id, scheme_id, Role.MENTOR)] in taking_part
        ]
        for scheme_id, rows in mentors_of.items()
    }
    mentor_ids_of = {scheme_id: [row.user_id for row in rows] for scheme_id, rows in mentors_of.items()}
    origins = [(Pairing.Origin.REQUEST, 60), (Pairing.Origin.MANUAL, 25), (Pairing.Origin.COHORT, 15)]
    reasons = END_REASONS
    pairings = []
    for (scheme, row, status), start, span, k in zip(paired, starts, spans, how_many, strict=True):
        if k == 0 or span <= 0:
            continue
        length = span / k  # seconds each pairing has, start to start
        mentors = mentor_ids_of.get(scheme.pk, [])
        if not [m for m in mentors[:2] if m != row.user_id]:
            continue  # no mentor in the scheme but (perhaps) this member
        for j in range(k):
            begins = start + datetime.timedelta(seconds=j * length)
            last = j == k - 1
            mentor = None
            if last and status in taking_part and rng.random() < 0.6:
                for _ in range(20):
                    candidate = rng.choice(can_take[scheme.pk]) if can_take.get(scheme.pk) else None
                    if candidate is None:
                        break
                    if candidate != row.user_id and active_count[candidate] < capacity[candidate]:
                        mentor = candidate
                        break
            if mentor is not None:
                active_count[mentor] += 1
                pairings.append(
                    Pairing(
                        scheme=scheme,
                        mentor_id=mentor,
                        mentee_id=row.user_id,
                        network_id=row.network_id,
                        status=Pairing.Status.ACTIVE,
                        origin=weighted(rng, origins),
                        started_at=begins,
                    )
                )
                continue
            mentor = rng.choice(mentors)
            while mentor == row.user_id:
                mentor = rng.choice(mentors)
            ends = begins + datetime.timedelta(seconds=length * rng.uniform(0.55, 0.95))
            pairings.append(
                Pairing(
                    scheme=scheme,
                    mentor_id=mentor,
                    mentee_id=row.user_id,
                    network_id=row.network_id,
                    status=Pairing.Status.ENDED,
                    origin=weighted(rng, origins),
                    started_at=begins,
                    ended_at=min(ends, now - datetime.timedelta(hours=1)),
                    end_reason=weighted(rng, reasons),
                )
            )
    return pairings


def _requests(rng, now, pairings, mentees_of, mentors_of) -> int:
    """The accepted request behind each pairing that began with one; declined and expired ones; and one
    request waiting for its mentor from a quarter of the mentees with no active pairing."""
    rows = Batches(MentorshipRequest)
    for p in pairings:
        if p.origin != Pairing.Origin.REQUEST:
            continue
        asked = p.started_at - rng.randint(1, 10) * DAY
        rows.add(
            scheme_id=p.scheme_id,
            mentee_id=p.mentee_id,
            mentor_id=p.mentor_id,
            message="I would value your help with my chartership application.",
            status=MentorshipRequest.Status.ACCEPTED,
            pairing=p,
            created_at=asked,
            expires_at=asked + 14 * DAY,
            responded_at=p.started_at,
        )
        if rng.random() < 0.15:  # a request to someone else first, declined or left to expire
            mentor = rng.choice(mentors_of[p.scheme_id]).user_id
            if mentor != p.mentee_id:
                status = rng.choice([MentorshipRequest.Status.DECLINED, MentorshipRequest.Status.EXPIRED])
                earlier = asked - 20 * DAY
                rows.add(
                    scheme_id=p.scheme_id,
                    mentee_id=p.mentee_id,
                    mentor_id=mentor,
                    message="Could you mentor me?",
                    status=status,
                    decline_reason="My places are full at the moment."
                    if status == MentorshipRequest.Status.DECLINED
                    else "",
                    created_at=earlier,
                    expires_at=earlier + 14 * DAY,
                    responded_at=earlier + 3 * DAY if status == MentorshipRequest.Status.DECLINED else None,
                )
    active_mentees = {(p.mentee_id, p.scheme_id) for p in pairings if p.status == Pairing.Status.ACTIVE}
    for scheme, row, status in mentees_of:
        waiting = (row.user_id, scheme.pk) not in active_mentees and status == SchemeMembership.Status.ACTIVE
        if waiting and mentors_of.get(scheme.pk) and rng.random() < 0.25:
            mentor = rng.choice(mentors_of[scheme.pk]).user_id
            if mentor == row.user_id:
                continue
            asked = now - rng.randint(0, 13) * DAY
            rows.add(
                scheme_id=scheme.pk,
                mentee_id=row.user_id,
                mentor_id=mentor,
                message="I am looking for a mentor for my next step.",
                status=MentorshipRequest.Status.PENDING,
                created_at=asked,
                expires_at=asked + 14 * DAY,
            )
    rows.flush()
    return rows.count


def _meetings(rng, now, pairings) -> int:
    """About one meeting a month of each pairing's life, most held; each active pairing has one agreed ahead."""
    rows = Batches(Meeting)
    for p in pairings:
        end = p.ended_at or now
        days = (end - p.started_at).days
        n = min(max(days // 30, 1), 8)
        for i in range(n):
            starts = p.started_at + datetime.timedelta(days=(i + 0.5) * days / n, hours=rng.randint(0, 8))
            if starts >= now:
                continue
            status = weighted(
                rng, [(Meeting.Status.HELD, 80), (Meeting.Status.MISSED, 8), (Meeting.Status.CANCELLED, 12)]
            )
            proposer = p.mentor_id if i % 2 else p.mentee_id
            rows.add(
                pairing=p,
                proposed_by_id=proposer,
                starts_at=starts,
                duration_minutes=rng.choice([30, 45, 60]),
                status=status,
                accepted_at=starts - 5 * DAY,
                marked_by_id=p.mentor_id if status != Meeting.Status.CANCELLED else None,
                marked_at=starts + DAY if status != Meeting.Status.CANCELLED else None,
                created_at=starts - 7 * DAY,
                changed_at=starts + DAY,
            )
        if p.status == Pairing.Status.ACTIVE:
            starts = now + rng.randint(2, 20) * DAY
            rows.add(
                pairing=p,
                proposed_by_id=p.mentee_id,
                starts_at=starts.replace(minute=0, second=0, microsecond=0),
                duration_minutes=60,
                status=Meeting.Status.ACCEPTED,
                accepted_at=now - DAY,
                created_at=now - 2 * DAY,
                changed_at=now - DAY,
            )
    rows.flush()
    return rows.count


def _feedback(rng, now, pairings) -> int:
    """Midpoint feedback from pairings that ran past it (and the asking, once), end feedback from ended ones."""
    answers, asked = Batches(Feedback), Batches(FeedbackRequest)
    for p in pairings:
        midpoint = p.started_at + 12 * 7 * DAY
        stages = []
        if midpoint < (p.ended_at or now):
            stages.append((Feedback.Stage.MIDPOINT, midpoint))
        if p.status == Pairing.Status.ENDED:
            stages.append((Feedback.Stage.END, p.ended_at))
        for stage, on in stages:
            for member in (p.mentor_id, p.mentee_id):
                asked.add(pairing=p, member_id=member, stage=stage, asked_at=on)
                if rng.random() < 0.55:
                    answers.add(
                        pairing=p,
                        member_id=member,
                        stage=stage,
                        rating=weighted(rng, RATINGS),
                        comments="Helpful and well organised." if rng.random() < 0.3 else "",
                        created_at=min(on + rng.randint(0, 10) * DAY, now),
                    )
    asked.flush()
    answers.flush()
    return answers.count


def _messages(rng, now, pairings, conversations, total: int) -> int:
    """`total` messages shared among the conversations by how long each pairing ran, each from one of its two
    members at a moment in its life; a few in active pairings are held for a coordinator (R-MSG-7)."""
    spans = [max(((p.ended_at or now) - p.started_at).total_seconds(), 60.0) for p in pairings]
    whole = sum(spans)
    shares = [total * span / whole for span in spans]
    how_many = [int(share) for share in shares]
    for i in sorted(range(len(shares)), key=lambda i: shares[i] - how_many[i], reverse=True)[: total - sum(how_many)]:
        how_many[i] += 1
    rows = Batches(Message)
    held: list[Message] = []
    bodies = MESSAGES
    for p, conversation, span, n in zip(pairings, conversations, spans, how_many, strict=True):
        if n == 0:
            continue
        step = span / n
        members = (p.mentee_id, p.mentor_id)
        for i in range(n):
            at = p.started_at + datetime.timedelta(seconds=step * (i + rng.random() * 0.9))
            sender = members[(i + (rng.random() < 0.2)) % 2]
            if p.status == Pairing.Status.ACTIVE and i == n - 1 and rng.random() < 0.01:
                held.append(
                    Message(
                        conversation=conversation,
                        sender_id=sender,
                        body="Shall we talk by phone instead? My number is 07700 900123.",
                        created_at=at,
                        status=Message.Status.HELD,
                    )
                )
            else:
                rows.add(
                    conversation_id=conversation.pk,
                    sender_id=sender,
                    body=bodies[rng.randrange(len(bodies))],
                    created_at=at,
                )
    rows.flush()
    held = Message.objects.bulk_create(held, batch_size=BATCH)
    HeldMessage.objects.bulk_create(
        [HeldMessage(message=m, reasons="phone", held_at=m.created_at) for m in held], batch_size=BATCH
    )
    return rows.count + len(held)
