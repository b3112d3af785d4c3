"""Demo data for a laptop: two schemes, three Local Networks, the scheme documents and one login per role.

Safe to run twice: everything is looked up before it is created.

With --large it then adds a large data set for benchmarks and scale checks (mentoring/management/demo_large.py):
by default 20,000 members, 50,000 pairings and 500,000 messages, in bulk inserts (minutes on PostgreSQL);
--members, --pairings and --messages set the sizes.
"""

import datetime
import zoneinfo

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Language, MembershipStatus
from matching.models import ExpertiseArea, MenteeProfile, MentorProfile, Sector
from matching.services import proposal_confirm, proposal_create
from mentoring.agreement import agreement_draft, version_defaults
from mentoring.management.demo_large import Sizes, seed_large
from mentoring.meetings import meeting_propose
from mentoring.models import (
    DocumentKind,
    LocalNetwork,
    Pairing,
    Role,
    Scheme,
    SchemeMembership,
    TermsAcceptance,
    TermsVersion,
)
from safeguarding.models import TrainingCourse, TrainingEvent, TrainingKind, TrainingRecord

DEMO_PASSWORD = "mentoring-demo-2026"  # noqa: S105  published in README for the demo logins

DOCUMENTS = {
    DocumentKind.TERMS: (
        "Career Mentoring Scheme terms and conditions",
        "1. Purpose. The scheme develops skills and performance through members sharing professional knowledge "
        "and experience.\n\n"
        "2. Meetings and other communication happen only through this platform.\n\n"
        "3. Mentors and mentees keep a professional relationship with clear boundaries, avoid conflicts of interest "
        "and declare any that arise.\n\n"
        "4. Members taking part are aged 18 or over and hold active membership. Mentors complete safeguarding "
        "eLearning and mentor training before they take part, and a DBS check where the scheme requires one.\n\n"
        "5. Either side may end a mentoring relationship, or withdraw from the scheme, at any time.\n\n"
        "6. The institution has not verified any member's mentoring skills; advice is taken at the member's own risk.",
    ),
    DocumentKind.CODE_OF_CONDUCT: (
        "Code of conduct for mentors and mentees",
        "Act with integrity, honesty and care. Respect confidentiality, within its stated exceptions. Treat everyone "
        "fairly and without discrimination. Keep within your competence. Raise a concern when you believe someone "
        "is at risk of harm.",
    ),
    DocumentKind.PRIVACY_NOTICE: (
        "Privacy notice",
        "We hold your details to run the mentoring scheme: your name, contact details, date of birth, membership, "
        "training and, where required, DBS check records. Only your first name and profile are shown to other "
        "members. You can download what we hold about you and ask us to erase it.",
    ),
    DocumentKind.COMPLAINTS_PROCEDURE: (
        "Complaints procedure",
        'Any member can complain about a person, a pairing or the mentoring service itself. Use the "Make a '
        'complaint" link at the foot of every page, and say what happened, when, and what you would like us to do.\n\n'
        "How it works. A complaint moves from received, to investigating, to resolved or dismissed. "
        "Your complaint is received at once, and you can follow it on your complaints page. "
        "We acknowledge it within five working days. The coordinator of your Local Network, or the scheme's staff "
        "if it concerns the coordinator or the scheme itself, then investigates it: they may ask you, and anyone "
        "else involved, for more detail. We aim to finish within 20 working days and tell you if it will take "
        "longer. The complaint is then resolved (we found a problem and say what we did about it) or dismissed "
        "(we found no problem, and say why). Either way you are told the outcome in writing, and you are told at "
        "every change of status. No one handles a complaint about themselves.\n\n"
        "If you are unhappy with the outcome, reply to your coordinator within 20 working days and scheme staff "
        "will review it.\n\n"
        "Safeguarding concerns are not complaints. If you think someone is at risk of harm, do not wait for the "
        "complaints procedure: the form sends you straight to the Safeguarding Lead.",
    ),
}


class Command(BaseCommand):
    help = "Load demo schemes, networks, documents and one login per role (safe to run twice); --large adds more."

    def add_arguments(self, parser):
        sizes = Sizes()
        parser.add_argument(
            "--large",
            action="store_true",
            help=f"also add a large data set ({sizes.members:,} members, {sizes.pairings:,} pairings, "
            f"{sizes.messages:,} messages by default) in bulk inserts, for benchmarks",
        )
        parser.add_argument("--members", type=int, default=sizes.members, help="members of the large data set")
        parser.add_argument("--pairings", type=int, default=sizes.pairings, help="pairings of the large data set")
        parser.add_argument("--messages", type=int, default=sizes.messages, help="messages of the large data set")

    def handle(self, *args, **options):
        with transaction.atomic():
            context = self.seed_base()
        # The demo pairing goes through the services a member calls, each its own (durable) transaction.
        self.seed_pairing(**context)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Every demo login uses the password {DEMO_PASSWORD!r}."))
        if options["large"]:
            sizes = Sizes(members=options["members"], pairings=options["pairings"], messages=options["messages"])
            if min(sizes.members, sizes.pairings, sizes.messages) < 0:
                raise CommandError("Sizes are whole numbers of 0 or more.")
            self.stdout.write(
                f"Adding the large data set: {sizes.members:,} members, {sizes.pairings:,} pairings, "
                f"{sizes.messages:,} messages."
            )
            counts = seed_large(sizes, say=self.stdout.write)
            if counts:
                self.stdout.write(self.style.SUCCESS(f"Large data set ready in {counts['seconds']} s."))

    def seed_base(self) -> dict:
        career, _ = Scheme.objects.get_or_create(
            slug="career",
            defaults={
                "name": "Career Mentoring",
                "kind": Scheme.Kind.CAREER,
                "description": "Mentoring for members at any stage of their engineering career.",
            },
        )
        registration, _ = Scheme.objects.get_or_create(
            slug="professional-registration",
            defaults={
                "name": "Professional Registration Mentoring",
                "kind": Scheme.Kind.PROFESSIONAL_REGISTRATION,
                "description": "Support towards CEng, IEng, EngTech or ICTTech registration. Not careers advice.",
                "dbs_required": True,
                "careers_advice_in_scope": False,
            },
        )
        london, _ = LocalNetwork.objects.get_or_create(slug="london", defaults={"name": "London", "region": "England"})
        north_west, _ = LocalNetwork.objects.get_or_create(
            slug="north-west", defaults={"name": "North West", "region": "England"}
        )
        LocalNetwork.objects.get_or_create(slug="scotland", defaults={"name": "Scotland", "region": "Scotland"})

        now = timezone.now()
        versions = []
        for kind, (title, body) in DOCUMENTS.items():
            version, _ = TermsVersion.objects.get_or_create(
                kind=kind, version="2026.1", defaults={"title": title, "body": body, "published_at": now}
            )
            versions.append(version)
        to_accept = [v for v in versions if v.kind != DocumentKind.COMPLAINTS_PROCEDURE]

        english = Language.objects.get(code="en")
        french = Language.objects.get(code="fr")
        today = timezone.localdate()
        next_year = today + datetime.timedelta(days=365)

        def member(
            email, first, last, dob, number, *, groups=(), staff=False, languages=(english,), tz="Europe/London"
        ):
            user, created = get_user_model().objects.get_or_create(
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": dob,
                    "membership_number": number,
                    "membership_grade": "Member",
                    "membership_status": MembershipStatus.ACTIVE,
                    "membership_expires_on": next_year,
                    "country": "GB",
                    "time_zone": tz,
                    "is_staff": staff,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.languages.set(languages)
            EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            for name in groups:
                user.groups.add(Group.objects.get(name=name))
            for version in to_accept:
                TermsAcceptance.objects.get_or_create(user=user, version=version)
            return user

        mentee = member("mentee@example.org", "Amara", "Okafor", datetime.date(1998, 5, 14), "10000001")
        mentor = member(
            "mentor@example.org", "David", "Chen", datetime.date(1975, 2, 3), "10000002", languages=(english, french)
        )
        new_mentor = member(
            "newmentor@example.org", "Priya", "Shah", datetime.date(1988, 11, 23), "10000003", tz="Asia/Kolkata"
        )
        coordinator = member(
            "coordinator@example.org",
            "Grace",
            "Hopper",
            datetime.date(1970, 12, 9),
            "10000004",
            groups=[settings.GROUP_COORDINATORS],
            staff=True,
        )
        member(
            "staff@example.org",
            "Sam",
            "Taylor",
            datetime.date(1985, 7, 1),
            "10000005",
            groups=[settings.GROUP_STAFF],
            staff=True,
        )
        member(
            "safeguarding@example.org",
            "Morgan",
            "Reid",
            datetime.date(1980, 3, 30),
            "10000006",
            groups=[settings.GROUP_SAFEGUARDING_LEAD],
            staff=True,
        )
        london.coordinators.add(coordinator)

        def join(user, scheme, role, network, status=SchemeMembership.Status.ACTIVE):
            SchemeMembership.objects.get_or_create(
                user=user, scheme=scheme, role=role, defaults={"network": network, "status": status}
            )

        join(mentee, career, Role.MENTEE, london)
        join(mentor, career, Role.MENTOR, london)
        join(new_mentor, registration, Role.MENTOR, north_west, SchemeMembership.Status.PENDING)
        join(new_mentor, career, Role.MENTEE, london)
        for kind in TrainingKind:
            TrainingRecord.objects.get_or_create(
                user=mentor,
                kind=kind,
                defaults={
                    "completed_on": today - datetime.timedelta(days=30),
                    "expires_on": today + datetime.timedelta(days=700),
                    "recorded_by": coordinator,
                },
            )
        # Issue 9: mentor training events the new mentor (North West) and London's members can book.
        for delivery, network, place, days in (
            (TrainingCourse.Delivery.WORKSHOP, north_west, "IET North West, Manchester", 21),
            (TrainingCourse.Delivery.ONE_DAY_COURSE, london, "IET London: Savoy Place", 35),
        ):
            course = TrainingCourse.objects.filter(delivery=delivery).first()
            if course is not None:
                starts = (now + datetime.timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
                TrainingEvent.objects.get_or_create(
                    course=course,
                    network=network,
                    defaults={
                        "starts_at": starts,
                        "ends_at": starts + datetime.timedelta(hours=7),
                        "place": place,
                        "capacity": 12,
                        "created_by": coordinator,
                    },
                )
        self.seed_matching(
            career=career,
            london=london,
            north_west=north_west,
            mentor=mentor,
            mentee=mentee,
            member=member,
            join=join,
            today=today,
            coordinator=coordinator,
        )
        return {
            "career": career,
            "london": london,
            "member": member,
            "join": join,
            "today": today,
            "coordinator": coordinator,
        }

    def seed_matching(self, *, career, london, north_west, mentor, mentee, member, join, today, coordinator):
        """Sectors, expertise areas, a dozen listed mentors in Career Mentoring, and the demo mentee's goals."""
        sectors = {n: Sector.objects.get_or_create(name=n)[0] for n in SECTORS}
        areas = {n: ExpertiseArea.objects.get_or_create(name=n)[0] for n in AREAS}
        languages = {c: Language.objects.get(code=c) for c in ("en", "fr", "de", "es", "hi", "pl")}

        def profile(user, role, sector, expertise, langs, country, capacity, history):
            p, created = MentorProfile.objects.get_or_create(
                user=user,
                defaults={
                    "role_title": role,
                    "work_history": history,
                    "sector": sectors[sector],
                    "country": country,
                    "capacity": capacity,
                    "status": MentorProfile.Status.APPROVED,
                    "reviewed_by": coordinator,
                },
            )
            if created:
                p.expertise.set([areas[a] for a in expertise])
                p.languages.set([languages[c] for c in langs])

        profile(
            mentor,
            "Principal power systems engineer",
            "Energy",
            ["Power systems", "Chartership (CEng)", "Leadership"],
            ["en", "fr"],
            "GB",
            3,
            "Twenty-five years in transmission and distribution; led the protection team for a national grid "
            "operator; now mentors engineers towards chartership.",
        )
        for i, (first, last, role, sector, expertise, langs, country, capacity) in enumerate(DEMO_MENTORS):
            email = f"mentor{i + 1}@example.org"
            user = member(email, first, last, datetime.date(1970 + i, 1 + i % 12, 1 + i), f"1000{i + 100:04d}")
            join(user, career, Role.MENTOR, london if i % 2 == 0 else north_west)
            for kind in TrainingKind:
                TrainingRecord.objects.get_or_create(
                    user=user,
                    kind=kind,
                    defaults={
                        "completed_on": today - datetime.timedelta(days=60),
                        "expires_on": today + datetime.timedelta(days=600),
                        "recorded_by": coordinator,
                    },
                )
            profile(
                user,
                role,
                sector,
                expertise,
                langs,
                country,
                capacity,
                f"{role} with experience across {sector.lower()} projects, happy to help with {expertise[0].lower()}.",
            )
        goals, created = MenteeProfile.objects.get_or_create(
            user=mentee,
            defaults={
                "goals": "Become a Chartered Engineer within two years and lead my first substation project.",
                "sector": sectors["Energy"],
                "language": languages["en"],
                "country": "GB",
            },
        )
        if created:
            goals.expertise.set([areas["Chartership (CEng)"], areas["Power systems"], areas["Project management"]])

    def seed_pairing(self, *, career, london, member, join, today, coordinator):
        """A pairing already under way, so its page shows an agreement to confirm and a meeting to answer:
        Ben (New York) mentored by Olivia (mentor1, London). Started through the services, as a coordinator would."""
        ben = member(
            "paired@example.org", "Ben", "Adeyemi", datetime.date(1996, 9, 12), "10000007", tz="America/New_York"
        )
        join(ben, career, Role.MENTEE, london)
        MenteeProfile.objects.get_or_create(
            user=ben,
            defaults={"goals": "Prepare my IEng application.\nLead a site team with confidence.", "country": "US"},
        )
        mentor = get_user_model().objects.get(email="mentor1@example.org")
        if Pairing.objects.filter(mentor=mentor, mentee=ben, scheme=career).exists():
            return
        # The coordinator proposes; both declare no conflict of interest and confirm (R-MATCH-5), so it starts.
        proposal = proposal_create(scheme=career, mentee=ben, mentor=mentor, actor=coordinator)
        no_conflict = {"kind": "none", "details": "", "manageable": True}
        proposal_confirm(proposal_id=proposal.pk, member=ben, declaration=no_conflict)
        pairing = proposal_confirm(proposal_id=proposal.pk, member=mentor, declaration=no_conflict).pairing
        agreement_draft(
            pairing=pairing,
            actor=mentor,
            fields={
                **version_defaults(pairing),
                "goals": "An IEng application ready to submit; confidence leading a site team.",
                "roles": "Ben sets the agenda; Olivia listens, asks and shares what worked for her.",
                "boundaries": "We talk only through the platform; no calls outside the times we agree.",
                "frequency": "Every two weeks",
                "session_timing": "Tuesdays, 18:00 in London (13:00 in New York)",
                "session_duration_minutes": 60,
                "period_start": today,
                "period_end": today + datetime.timedelta(days=180),
                "review_date": today + datetime.timedelta(days=90),
            },
        )
        in_a_week = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(mentor.time_zone)) + datetime.timedelta(days=7)
        meeting_propose(
            pairing_id=pairing.pk,
            actor=mentor,
            starts_local=in_a_week.replace(hour=18, minute=0, second=0, microsecond=0, tzinfo=None),
            duration_minutes=60,
            note="A first conversation: your goals and how we will work.",
        )


SECTORS = [
    "Energy",
    "Rail and transport",
    "Telecommunications",
    "Manufacturing",
    "Construction",
    "Software and IT",
    "Defence and aerospace",
    "Healthcare technology",
]
AREAS = [
    "Chartership (CEng)",
    "Incorporated Engineer (IEng)",
    "Power systems",
    "Project management",
    "Leadership",
    "Software engineering",
    "Signalling",
    "Embedded systems",
    "Safety engineering",
    "Career change",
    "Working abroad",
    "Returning to work",
]
DEMO_MENTORS = [
    (
        "Olivia",
        "Brown",
        "Signalling design lead",
        "Rail and transport",
        ["Signalling", "Safety engineering"],
        ["en"],
        "GB",
        2,
    ),
    (
        "Fatima",
        "Khan",
        "Head of software",
        "Software and IT",
        ["Software engineering", "Leadership"],
        ["en", "hi"],
        "GB",
        3,
    ),
    (
        "Lukas",
        "Schmidt",
        "Embedded systems architect",
        "Manufacturing",
        ["Embedded systems", "Working abroad"],
        ["en", "de"],
        "DE",
        2,
    ),
    (
        "Sofia",
        "Garcia",
        "Network planning manager",
        "Telecommunications",
        ["Project management", "Career change"],
        ["en", "es"],
        "ES",
        1,
    ),
    (
        "James",
        "Wilson",
        "Chartered structural engineer",
        "Construction",
        ["Chartership (CEng)", "Project management"],
        ["en"],
        "GB",
        2,
    ),
    ("Anna", "Nowak", "Reliability engineer", "Energy", ["Power systems", "Returning to work"], ["en", "pl"], "PL", 2),
    (
        "Chloe",
        "Martin",
        "Systems engineer",
        "Defence and aerospace",
        ["Safety engineering", "Chartership (CEng)"],
        ["en", "fr"],
        "FR",
        1,
    ),
    (
        "Rahul",
        "Mehta",
        "Medical devices lead",
        "Healthcare technology",
        ["Embedded systems", "Leadership"],
        ["en", "hi"],
        "IN",
        2,
    ),
    (
        "Grace",
        "Adams",
        "Programme director",
        "Energy",
        ["Leadership", "Project management", "Chartership (CEng)"],
        ["en"],
        "GB",
        4,
    ),
    (
        "Tom",
        "Evans",
        "Incorporated engineer, maintenance",
        "Manufacturing",
        ["Incorporated Engineer (IEng)"],
        ["en"],
        "GB",
        2,
    ),
]
