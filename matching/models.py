"""Mentor and mentee profiles, mentorship requests, conflict-of-interest declarations, profile reports."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from accounts.validators import validate_single_line
from matching.suggest import fit_out_of_100

MAX_CAPACITY = 10


class Sector(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExpertiseArea(models.Model):
    """Areas a mentor offers and a mentee wants; coordinators manage the list in the admin."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MentorProfile(models.Model):
    """What mentees see of a mentor (R-PROFILE-1). Listed only once approved and while eligible."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for approval"
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    class Availability(models.TextChoices):
        ACCEPTING = "accepting", "Accepting mentees"
        PAUSED = "paused", "Paused"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentor_profile")
    role_title = models.CharField("current role", max_length=120, validators=[validate_single_line])
    work_history = models.TextField("summary of work history", max_length=3000)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="mentors")
    expertise = models.ManyToManyField(ExpertiseArea, related_name="mentors")
    languages = models.ManyToManyField("accounts.Language", related_name="mentor_profiles")
    country = CountryField()
    capacity = models.PositiveSmallIntegerField(
        "most mentees at once", default=2, validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)]
    )
    availability = models.CharField(max_length=10, choices=Availability.choices, default=Availability.ACCEPTING)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    review_note = models.TextField(blank=True, help_text="Shown to the mentor when changes are requested.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=MAX_CAPACITY), name="capacity_between_1_and_10"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user.first_name} – {self.role_title}"

    def get_absolute_url(self) -> str:
        return reverse("mentor_detail", args=[self.pk])


class MenteeProfile(models.Model):
    """A mentee's goals and preferences (R-PROFILE-5), set before the first meeting."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentee_profile")
    goals = models.TextField("what you want to accomplish", max_length=3000)
    sector = models.ForeignKey(Sector, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    expertise = models.ManyToManyField(ExpertiseArea, blank=True, related_name="+")
    language = models.ForeignKey(
        "accounts.Language",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="preferred language",
    )
    country = CountryField("preferred mentor country", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Goals of {self.user}"


class MentorshipRequestQuerySet(models.QuerySet):
    def for_mentor(self, user):
        return self.filter(mentor=user)

    def for_mentee(self, user):
        return self.filter(mentee=user)

    def visible_to(self, user):
        return self.filter(models.Q(mentor=user) | models.Q(mentee=user))

    def pending(self):
        return self.filter(status=MentorshipRequest.Status.PENDING)


class MentorshipRequest(models.Model):
    """The mentee asks; the mentor accepts or declines (R-MATCH-2).

    pending -> accepted | declined | withdrawn | expired.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the mentor"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        EXPIRED = "expired", "Expired"

    scheme = models.ForeignKey("mentoring.Scheme", on_delete=models.PROTECT, related_name="requests")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requests_sent")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="requests_received")
    message = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decline_reason = models.TextField(blank=True, max_length=1000)
    referred_to_coordinator = models.BooleanField(default=False)
    pairing = models.OneToOneField(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.SET_NULL, related_name="source_request"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = MentorshipRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "mentor", "scheme"],
                condition=models.Q(status="pending"),
                name="one_pending_request_per_couple",
            ),
            models.CheckConstraint(condition=~models.Q(mentor=models.F("mentee")), name="no_request_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee.first_name} → {self.mentor.first_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("request_detail", args=[self.pk])


class ConflictDeclaration(models.Model):
    """Each side declares any conflict of interest before a pairing starts (R-MATCH-5)."""

    class Kind(models.TextChoices):
        NONE = "none", "No conflict"
        COMMERCIAL = "commercial", "Commercial (we work with or for the same business)"
        LINE_MANAGER = "line_manager", "One of us manages the other"
        FRIENDSHIP = "friendship", "Friendship"
        RELATIONSHIP = "relationship", "Family or personal relationship"
        OTHER = "other", "Other"

    # Declared on a mentee's request, or on a pairing a coordinator proposed: one of the two, never both.
    request = models.ForeignKey(
        MentorshipRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="declarations"
    )
    proposal = models.ForeignKey(
        "matching.PairingProposal", null=True, blank=True, on_delete=models.CASCADE, related_name="declarations"
    )
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NONE)
    details = models.TextField(blank=True, max_length=1000)
    manageable = models.BooleanField(default=True)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "declared_by"], name="one_declaration_per_side"),
            models.UniqueConstraint(fields=["proposal", "declared_by"], name="one_proposal_declaration_per_side"),
            models.CheckConstraint(
                condition=models.Q(request__isnull=False, proposal__isnull=True)
                | models.Q(request__isnull=True, proposal__isnull=False),
                name="declaration_on_request_or_proposal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.declared_by}: {self.get_kind_display()}"

    @property
    def blocks(self) -> bool:
        return self.kind != self.Kind.NONE and not self.manageable


class ProfileReport(models.Model):
    """Anyone may report a profile; it lands in the coordinator's queue (R-PROFILE-3)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    profile = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Report on {self.profile}"


class ConflictBlock(models.Model):
    """An unmanageable conflict of interest that stopped a pairing (R-MATCH-5): kept for the coordinators."""

    scheme = models.ForeignKey("mentoring.Scheme", on_delete=models.PROTECT, related_name="+")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    request = models.ForeignKey(
        MentorshipRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="conflict_blocks"
    )
    proposal = models.ForeignKey(
        "matching.PairingProposal", null=True, blank=True, on_delete=models.SET_NULL, related_name="conflict_blocks"
    )
    kind = models.CharField(max_length=20, choices=ConflictDeclaration.Kind.choices)
    details = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "blocked pairing (conflict of interest)"
        verbose_name_plural = "blocked pairings (conflicts of interest)"

    def __str__(self) -> str:
        return f"{self.mentee.first_name} and {self.mentor.first_name}: {self.get_kind_display()}"


class PairingProposalQuerySet(models.QuerySet):
    def for_member(self, user):
        """Proposals `user` is one side of: the only ones a member may open."""
        return self.filter(models.Q(mentor=user) | models.Q(mentee=user))

    def open(self):
        return self.filter(status=PairingProposal.Status.PROPOSED)


class PairingProposal(models.Model):
    """A pairing a coordinator proposed, by hand or in a cohort run (R-MATCH-3): it starts only when both
    members have declared any conflict of interest and confirmed (R-MATCH-5, R-MATCH-8).

    proposed -> started (both confirmed; the pairing started) | declined (either said no, or declared an
    unmanageable conflict) | withdrawn (by a coordinator) | lapsed (it no longer fitted when both had
    confirmed: a place taken, eligibility lapsed; `outcome` says why).
    """

    class Origin(models.TextChoices):
        MANUAL = "manual", "Matched by a coordinator"
        COHORT = "cohort", "Cohort matching"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Waiting for both to confirm"
        STARTED = "started", "Started"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LAPSED = "lapsed", "Could not start"

    scheme = models.ForeignKey("mentoring.Scheme", on_delete=models.PROTECT, related_name="+")
    network = models.ForeignKey(
        "mentoring.LocalNetwork", null=True, on_delete=models.PROTECT, related_name="+", help_text="The mentee's."
    )
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proposals_as_mentor")
    mentee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proposals_as_mentee")
    origin = models.CharField(max_length=10, choices=Origin.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="proposals_made"
    )
    score = models.FloatField(default=0, help_text="The fit as suggestions score it (matching.suggest.score).")
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    mentor_confirmed_at = models.DateTimeField(null=True, blank=True)
    mentee_confirmed_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.TextField(blank=True, max_length=2000, help_text="Why it was declined or could not start.")
    pairing = models.OneToOneField(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.SET_NULL, related_name="proposal"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = PairingProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "proposed pairing"
        constraints = [
            models.UniqueConstraint(
                fields=["mentee", "mentor", "scheme"],
                condition=models.Q(status="proposed"),
                name="one_open_proposal_per_pair",
            ),
            models.CheckConstraint(condition=~models.Q(mentor=models.F("mentee")), name="no_proposal_to_self"),
        ]

    def __str__(self) -> str:
        return f"{self.mentee.first_name} with {self.mentor.first_name} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("proposal_detail", args=[self.pk])

    @property
    def fit(self) -> int:
        """The score on the 0–100 scale coordinators and members read."""
        return fit_out_of_100(self.score)

    def confirmed_by(self, user) -> bool:
        if user.pk == self.mentor_id:
            return self.mentor_confirmed_at is not None
        return user.pk == self.mentee_id and self.mentee_confirmed_at is not None


class MentorListing(models.Model):
    """One listed mentor in one scheme, with the facts search and suggestions read (R-PROFILE-3, R-MATCH-1).

    Derived, never edited by hand: `matching.listing.refresh` writes it from the eligibility engine
    (`listed_profiles`) whenever something a listing depends on is saved, and a scheduled job
    refreshes every scheme as dates pass. Sets of ids are strings of "0"/"1" where position n
    (from 1) is id n, so SQL on either database tests an id with one `substr`; ids below 63 also as bits of
    an integer.
    """

    scheme = models.ForeignKey("mentoring.Scheme", on_delete=models.CASCADE, related_name="+")
    profile = models.ForeignKey(MentorProfile, on_delete=models.CASCADE, related_name="listings")
    mentor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    first_name = models.CharField(max_length=150)
    role_title = models.CharField(max_length=120)
    sector = models.ForeignKey(Sector, on_delete=models.CASCADE, related_name="+")
    country = CountryField(blank=True)
    availability = models.CharField(max_length=10, choices=MentorProfile.Availability.choices)
    capacity = models.PositiveSmallIntegerField()
    active_mentees = models.PositiveSmallIntegerField()
    expertise_bits = models.TextField(blank=True)
    language_bits = models.TextField(blank=True)
    # The same sets as integers (bit n = id n) for ids below 63, which SQL tests with a shift: twice as fast
    # as substr when ranking ten thousand rows. A larger id is read from the text.
    expertise_mask = models.BigIntegerField(default=0)
    language_mask = models.BigIntegerField(default=0)
    # The scheme's listing revision that last wrote this row: empty when written, numbered once its transaction
    # has committed (`matching.listing.stamp`), so a process's copy (matching/ranking.py) reads what changed.
    revision = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scheme", "profile"], name="one_listing_per_scheme_profile")]
        indexes = [
            models.Index(fields=["scheme", "first_name", "profile"], name="listing_scheme_name"),
            models.Index(fields=["scheme", "revision"], name="listing_scheme_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} in scheme {self.scheme_id}"


def new_epoch() -> str:
    return secrets.token_hex(8)


class ListingState(models.Model):
    """A scheme's listing as a whole: when it was last brought in line with the engine (empty until then), and
    the revision of its last committed change, which the processes' copies follow (matching/ranking.py)."""

    scheme = models.OneToOneField("mentoring.Scheme", on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    revision = models.BigIntegerField(default=0)
    # Removals up to this revision are forgotten: a copy older than it reads the listing again.
    forgotten = models.BigIntegerField(default=0)
    # Made with the row: a copy made from another row of this scheme (a database restored, the state deleted
    # and made again) reads the listing again instead of trusting its revisions.
    epoch = models.CharField(max_length=16, default=new_epoch)

    def __str__(self) -> str:
        return f"Listing of scheme {self.scheme_id} at revision {self.revision}"


class ListingRemoval(models.Model):
    """A listing row that was deleted, so the processes' copies drop it (matching/ranking.py). Written by the
    row's delete signal, numbered as the rows are, and forgotten after a day by the scheduled refresh. Plain ids,
    not foreign keys: it outlives its profile, and is written while its scheme may be being deleted."""

    scheme_id = models.BigIntegerField()
    profile_id = models.BigIntegerField()
    revision = models.BigIntegerField(null=True, blank=True)
    removed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["scheme_id", "revision"], name="removal_scheme_revision")]

    def __str__(self) -> str:
        return f"Profile {self.profile_id} left scheme {self.scheme_id}'s listing"


class ApprovedProfileText(models.Model):
    """A mentor profile's text as it was last approved (R-COORD-2, R-PROFILE-3), so the coordinator reviewing a
    change reads the approved text beside the new one. Names are copied (a sector renamed later does not change
    what was approved). Written only by `matching.services.mentor_profile_review` on approval."""

    profile = models.OneToOneField(MentorProfile, on_delete=models.CASCADE, related_name="approved_text")
    role_title = models.CharField("current role", max_length=120)
    work_history = models.TextField("summary of work history")
    sector = models.CharField(max_length=100)
    expertise = models.TextField("areas of expertise", blank=True, help_text="Names, one a line.")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField()

    class Meta:
        verbose_name = "approved profile text"

    def __str__(self) -> str:
        return f"Approved text of profile {self.profile_id}"
