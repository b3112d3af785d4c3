"""Schemes, Local Networks, scheme membership and the versioned scheme documents."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Scheme(models.Model):
    """One mentoring scheme with its own rules (R-SCHEME-1).

    The rules are plain fields so staff can see and change them in the admin.
    """

    class Kind(models.TextChoices):
        CAREER = "career", "Career mentoring"
        PROFESSIONAL_REGISTRATION = "registration", "Professional registration mentoring"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CAREER)
    description = models.TextField(blank=True)
    dbs_required = models.BooleanField(
        "DBS check required for mentors",
        default=False,
        help_text="Mentors need a cleared DBS check before they take part.",
    )
    dbs_recheck_years = models.PositiveSmallIntegerField("DBS recheck interval (years)", default=3)
    shares_contact_details = models.BooleanField(
        "share contact details on match",
        default=False,
        help_text="Off keeps all contact on the platform (IET terms 1.2); on shares email and telephone once paired.",
    )
    careers_advice_in_scope = models.BooleanField(default=True)
    max_pending_requests_per_mentee = models.PositiveSmallIntegerField(default=1)
    max_mentors_per_mentee = models.PositiveSmallIntegerField(
        "most mentors a mentee may have at once", default=1, validators=[MinValueValidator(1)]
    )
    request_expiry_days = models.PositiveSmallIntegerField(default=14)
    is_open = models.BooleanField(default=True, help_text="Open schemes accept new members.")
    # Feedback (issue 7, item 5): both are asked this many weeks after the pairing started.
    feedback_midpoint_weeks = models.PositiveSmallIntegerField(
        "feedback at the midpoint (weeks)",
        default=12,
        help_text="Both members of a pairing are asked for feedback this many weeks after it started.",
    )
    # Issue 7, meetings part: days without a meeting before both members are nudged (twice that: coordinators).
    inactivity_days = models.PositiveSmallIntegerField(
        "days of inactivity before a nudge",
        default=30,
        validators=[MinValueValidator(1)],
        help_text="With no meeting in this many days both members are reminded; after twice that, their coordinators.",
    )
    # Scheme closure (issue 7, R-SCHEME-3): set through services.scheme_close_set, at least 14 days ahead.
    closes_on = models.DateField(
        "close date",
        null=True,
        blank=True,
        help_text="The scheme closes on this date: members are told two weeks before, and its pairings end on it.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LocalNetwork(models.Model):
    """A Local Network groups members; coordinators are attached to networks (R-SCHEME-2)."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    region = models.CharField(max_length=120, blank=True)
    coordinators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="coordinated_networks")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    MENTEE = "mentee", "Mentee"
    MENTOR = "mentor", "Mentor"


class SchemeMembership(models.Model):
    """A member's place in one scheme in one role.

    States: pending (onboarding) -> active <-> paused -> withdrawn; any -> suspended -> active.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Onboarding"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SUSPENDED = "suspended", "Suspended"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    network = models.ForeignKey(LocalNetwork, on_delete=models.PROTECT, related_name="memberships")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    joined_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scheme__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "scheme", "role"], name="one_membership_per_scheme_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} in {self.scheme}"


class DocumentKind(models.TextChoices):
    TERMS = "terms", "Terms and conditions"
    CODE_OF_CONDUCT = "code-of-conduct", "Code of conduct"
    PRIVACY_NOTICE = "privacy-notice", "Privacy notice"
    COMPLAINTS_PROCEDURE = "complaints-procedure", "Complaints procedure"


# Documents a member must accept to take part (R-ELIG-5); the complaints
# procedure is read, not accepted.
ACCEPTED_KINDS = (DocumentKind.TERMS, DocumentKind.CODE_OF_CONDUCT, DocumentKind.PRIVACY_NOTICE)


class TermsVersionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())

    def current(self):
        """The newest published version of each kind."""
        published = self.published()
        newest = published.order_by("kind", "-published_at", "-pk")
        seen, ids = set(), []
        for pk, kind in newest.values_list("pk", "kind"):
            if kind not in seen:
                seen.add(kind)
                ids.append(pk)
        return self.filter(pk__in=ids)

    def current_to_accept(self):
        """The current version of each document a member must accept (R-ELIG-5)."""
        return self.current().filter(kind__in=ACCEPTED_KINDS)


class TermsVersion(models.Model):
    """One version of a scheme document (R-SCHEME-4). Published versions are never edited."""

    kind = models.CharField(max_length=24, choices=DocumentKind.choices)
    version = models.CharField(max_length=20, help_text="For example 2026.1")
    title = models.CharField(max_length=200)
    summary_of_changes = models.TextField(blank=True)
    body = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TermsVersionQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-published_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "version"], name="one_version_label_per_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.version}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class TermsAcceptance(models.Model):
    """A member accepted one version, at a time (R-SCHEME-4, R-ELIG-5)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="acceptances")
    version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="accept_each_version_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.version}"


class PairingQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The pairings a member is part of. Coordinators see theirs through the admin."""
        return self.filter(models.Q(mentor=user) | models.Q(mentee=user))

    def active(self):
        return self.filter(status=Pairing.Status.ACTIVE)

    def running(self):
        """Active and not paused: the pairings whose members meet, write and are reminded."""
        return self.active().filter(paused_at__isnull=True)


class Pairing(models.Model):
    """A mentor and a mentee working together in one scheme. Started only by `services.pairing_start`."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        GOALS_MET = "goals_met", "Goals met"
        DIFFERENCES = "differences", "Differences between us"
        LACK_OF_COMMUNICATION = "lack_of_communication", "Lack of communication"
        CONFLICT = "conflict", "Conflict of interest"
        OTHER = "other", "Other"
        # Ending and withdrawal (issue 7, items 6 and 8); scheme closure (item 10) uses SCHEME_CLOSED.
        WITHDRAWAL = "withdrawal", "Withdrawal from the scheme"
        SCHEME_CLOSED = "scheme_closed", "Scheme closed"

    class Origin(models.TextChoices):
        REQUEST = "request", "Mentee's request"
        MANUAL = "manual", "Matched by a coordinator"
        COHORT = "cohort", "Cohort matching"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="pairings")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pairings_as_mentor")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pairings_as_mentee")
    network = models.ForeignKey(LocalNetwork, on_delete=models.PROTECT, related_name="pairings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.REQUEST)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=30, choices=EndReason.choices, blank=True)
    # Set while one of its members is suspended by the Safeguarding Lead (mentoring/suspension.py): still active
    # (it keeps its place), but no messages, no meetings and no reminders until the suspension is lifted.
    paused_at = models.DateTimeField(null=True, blank=True)

    objects = PairingQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentor", "mentee", "scheme"],
                condition=models.Q(status="active"),
                name="one_active_pairing_per_couple",
            ),
            models.CheckConstraint(condition=~models.Q(mentor=models.F("mentee")), name="no_self_pairing"),
        ]
        # A mentee's active pairings, from an index alone (the unique constraint above leads with the mentor):
        # the dashboards' funnel asks it of every mentee.
        indexes = [
            models.Index(
                fields=["mentee", "scheme"], condition=models.Q(status="active"), name="active_pairing_of_mentee"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mentor.first_name} mentoring {self.mentee.first_name} ({self.scheme})"

    def get_absolute_url(self) -> str:
        return reverse("pairing_detail", args=[self.pk])

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.ACTIVE and self.paused_at is not None


class WaitingMentee(SchemeMembership):
    """Mentees with no active pairing, for the coordinators' queue (R-MATCH-4, R-COORD-2)."""

    class Meta:
        proxy = True
        verbose_name = "unmatched mentee"


class RematchRequest(models.Model):
    """A mentee whose pairing ended for differences asks the coordinator for another mentor (R-MATCH-6)."""

    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rematch_requests")
    pairing = models.OneToOneField(Pairing, on_delete=models.CASCADE, related_name="rematch_request")
    note = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at"]
        db_table = "matching_rematchrequest"  # the table it had before the pairing's pages moved here

    def __str__(self) -> str:
        return f"Rematch for {self.mentee}"


# The pairing's life lives in modules of this package, one per part; importing them here registers their models.
# (Each module imports what it needs from this package, which is complete by the time these lines run.)
from mentoring.models.agreement import (  # noqa: E402, F401  (issue 7: agreement, goals, notes, CPD)
    Agreement,
    AgreementConfirmation,
    AgreementReminder,
    AgreementVersion,
    CPDEntry,
    GoalProgress,
    PairingGoal,
    SessionNote,
)
from mentoring.models.closure import SchemeClosureNotice  # noqa: E402,F401  scheme closure (issue 7)
from mentoring.models.ending import EndOfPairing, Feedback, FeedbackRequest  # noqa: E402, F401  (issue 7: ending)
from mentoring.models.meetings import CalendarFeed, InactivityNudge, Meeting, MeetingReminder  # noqa: E402, F401
