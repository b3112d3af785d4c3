"""Training records and DBS checks: the evidence the eligibility engine reads; the training catalogue and its
events; the rows that make each reminder and lapse notice happen once."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone


class TrainingKind(models.TextChoices):
    SAFEGUARDING_ELEARNING = "safeguarding_elearning", "Safeguarding eLearning"
    MENTOR_TRAINING = "mentor_training", "Mentor training"


class TrainingCourse(models.Model):
    """A course of the training catalogue (R-ELIG-3, R-COORD-3): what completing it counts as, how it is
    delivered, and how long a completion stays current.

    The scheme documents name the courses (000 2.6.2: Safeguarding eLearning; 002 5.1 and 003: mentor
    training as the online programme, a Local Network workshop or the one-day course) but no validity:
    the catalogue starts with three years for the eLearning and none for mentor training, which staff
    change here.
    """

    class Delivery(models.TextChoices):
        ELEARNING = "elearning", "eLearning module"
        ONLINE_PROGRAMME = "online_programme", "Online training programme"
        WORKSHOP = "workshop", "Local Network workshop"
        ONE_DAY_COURSE = "one_day_course", "One-day mentoring course"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(
        "counts as", max_length=30, choices=TrainingKind.choices, help_text="The training record it gives."
    )
    delivery = models.CharField(max_length=20, choices=Delivery.choices)
    validity_years = models.PositiveSmallIntegerField(
        "stays current for (years)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Leave empty if a completion never expires.",
    )
    description = models.TextField(blank=True, max_length=2000)
    is_offered = models.BooleanField("offered", default=True, help_text="Coordinators add events of offered courses.")

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_events(self) -> bool:
        """The eLearning module is done online at the member's own pace: it has no dated events."""
        return self.delivery != self.Delivery.ELEARNING


class TrainingRecord(models.Model):
    """A completed course, with its expiry (R-ELIG-3). Recorded by a coordinator or staff."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_records")
    kind = models.CharField(max_length=30, choices=TrainingKind.choices)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Leave empty if it never expires.")
    course = models.ForeignKey(
        TrainingCourse, null=True, blank=True, on_delete=models.PROTECT, related_name="records", help_text="Optional."
    )
    notes = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-completed_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True) | models.Q(expires_on__gt=models.F("completed_on")),
                name="training_expires_after_completion",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.user} ({self.completed_on})"

    @property
    def kind_label(self) -> str:
        return self.get_kind_display()


class DBSCheck(models.Model):
    """A Disclosure and Barring Service check (R-ELIG-4, R-SAFE-3).

    Criminal-offence data: staff and the Safeguarding Lead only, never coordinators.
    States: requested -> submitted -> cleared -> expired; requested or submitted -> refused.
    Changed only through safeguarding/dbs.py. The certificate's date (`cleared_on`) and each
    scheme's recheck interval give the expiry (eligibility.dbs_expires_on); nothing stores it.
    """

    class Level(models.TextChoices):
        BASIC = "basic", "Basic"
        STANDARD = "standard", "Standard"
        ENHANCED = "enhanced", "Enhanced"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SUBMITTED = "submitted", "Submitted"
        CLEARED = "cleared", "Cleared"
        EXPIRED = "expired", "Expired"
        REFUSED = "refused", "Refused"

    # Each state and the states it may move to; expired and refused are final (a new check starts afresh).
    NEXT = {
        Status.REQUESTED: (Status.SUBMITTED, Status.REFUSED),
        Status.SUBMITTED: (Status.CLEARED, Status.REFUSED),
        Status.CLEARED: (Status.EXPIRED,),
        Status.EXPIRED: (),
        Status.REFUSED: (),
    }
    IN_PROGRESS = (Status.REQUESTED, Status.SUBMITTED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dbs_checks")
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.BASIC)
    level_reason = models.CharField(
        "why the role is eligible for this level",
        max_length=200,
        help_text="Basic for mentoring adults, which is not regulated activity; standard or enhanced only "
        "where the role is eligible for it, and why.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    certificate_number = models.CharField(max_length=20, blank=True)
    requested_on = models.DateField(default=timezone.localdate)
    submitted_on = models.DateField(null=True, blank=True)
    cleared_on = models.DateField("certificate issued on", null=True, blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-requested_on", "-pk"]
        verbose_name = "DBS check"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="cleared") | models.Q(cleared_on__isnull=False),
                name="cleared_dbs_has_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} DBS – {self.user} ({self.get_status_display()})"


class DBSReminder(models.Model):
    """One reminder about one DBS check at one stage, written in the transaction that sends it: a second run,
    or a run retried after a worker died, finds the row and sends nothing (R-SAFE-3)."""

    class Stage(models.TextChoices):
        OUTSTANDING_7 = "outstanding_7", "Request outstanding 7 days (to the mentor)"
        OUTSTANDING_14 = "outstanding_14", "Request outstanding 14 days (to the mentor)"
        OUTSTANDING_21 = "outstanding_21", "Request outstanding 21 days (to staff)"
        EXPIRY_30 = "expiry_30", "30 days before expiry (to the mentor)"

    dbs_check = models.ForeignKey(DBSCheck, on_delete=models.CASCADE, related_name="reminders")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dbs_check", "stage"], name="remind_each_dbs_stage_once")]

    def __str__(self) -> str:
        return f"DBS reminder {self.stage} for check {self.dbs_check_id}"


class TrainingEvent(models.Model):
    """A dated event of a course in one Local Network, created by its coordinator (R-COORD-3).

    Times are stored in UTC; every page shows them in the viewer's own time zone.
    """

    course = models.ForeignKey(TrainingCourse, on_delete=models.PROTECT, related_name="events")
    network = models.ForeignKey("mentoring.LocalNetwork", on_delete=models.PROTECT, related_name="training_events")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(max_length=200, help_text="An address, or “Online” and how to join.")
    capacity = models.PositiveSmallIntegerField(
        "places", validators=[MinValueValidator(1), MaxValueValidator(1000)], help_text="How many members can book."
    )
    notes = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(condition=models.Q(capacity__gte=1), name="event_has_a_place"),
        ]

    def __str__(self) -> str:
        return f"{self.course} – {self.network}, {self.starts_at:%d %b %Y}"


class TrainingBooking(models.Model):
    """A member's place on a training event. Cancelling keeps the row; booking again reopens it.

    States: booked -> cancelled -> booked; booked -> attended (marked by the coordinator, which
    records the training through training_record_save).
    """

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CANCELLED = "cancelled", "Cancelled"
        ATTENDED = "attended", "Attended"

    HOLDS_A_PLACE = (Status.BOOKED, Status.ATTENDED)

    event = models.ForeignKey(TrainingEvent, on_delete=models.PROTECT, related_name="bookings")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended_at = models.DateTimeField(null=True, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    training_record = models.OneToOneField(
        TrainingRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="booking"
    )

    class Meta:
        ordering = ["event__starts_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["event", "member"], name="one_booking_per_member_and_event")]

    def __str__(self) -> str:
        return f"{self.member} on {self.event}"


class TrainingExpiryReminder(models.Model):
    """One reminder that a training record is about to expire, per record and stage; written as it is sent."""

    class Stage(models.TextChoices):
        EXPIRY_30 = "expiry_30", "30 days before expiry"

    record = models.ForeignKey(TrainingRecord, on_delete=models.CASCADE, related_name="expiry_reminders")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="remind_each_training_expiry_once"),
        ]

    def __str__(self) -> str:
        return f"Training expiry reminder {self.stage} for record {self.record_id}"


class EligibilityLapse(models.Model):
    """A condition a taking-part member stopped meeting (membership lapsed, training or DBS expired), found by the
    daily sweep, and told to the member and their coordinator once (issue 9, item 5).

    Open while the condition stays unmet (one open lapse per membership and condition, so the sweep tells
    nobody twice); closed when the sweep finds it met again, so a later lapse is told afresh.
    """

    membership = models.ForeignKey("mentoring.SchemeMembership", on_delete=models.CASCADE, related_name="lapses")
    code = models.CharField(max_length=40)  # the eligibility condition's code
    lapsed_on = models.DateField()
    notified_at = models.DateTimeField(default=timezone.now)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-lapsed_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "code"],
                condition=models.Q(ended_on__isnull=True),
                name="one_open_lapse_per_condition",
            )
        ]

    def __str__(self) -> str:
        return f"Lapse of {self.code} for membership {self.membership_id} since {self.lapsed_on}"


class AuditEvent(models.Model):
    """Append-only record of a sensitive change or read (DESIGN: everything sensitive is audited)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=60)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    object_repr = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_repr}"


class Complaint(models.Model):
    """A member's complaint about a person, a pairing or the service (R-SAFE-4).

    States: received -> investigating -> resolved | dismissed (received may go straight to either end).
    Coordinators of the complainant's networks and staff move it, through `complaints.complaint_status_set`.
    """

    class About(models.TextChoices):
        PERSON = "person", "A person"
        PAIRING = "pairing", "A pairing"
        SERVICE = "service", "The mentoring service"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        INVESTIGATING = "investigating", "Being investigated"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    OPEN = (Status.RECEIVED, Status.INVESTIGATING)  # still to be dealt with (the coordinators' queue, R-COORD-2)

    complainant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="complaints")
    about = models.CharField(max_length=10, choices=About.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints_about",
        verbose_name="about the person",
    )
    pairing = models.ForeignKey(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.PROTECT, related_name="complaints"
    )
    # Reported from a message (R-MSG-6): which one. Handlers see when and from whom, never its text: they read
    # the conversation only through the audited access page.
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reported message",
    )
    text = models.TextField("what happened", max_length=5000)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.TextField(blank=True, max_length=5000)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "dismissed"]) | ~models.Q(outcome=""),
                name="closed_complaint_has_outcome",
            )
        ]

    def __str__(self) -> str:
        return f"Complaint {self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("complaint_detail", args=[self.pk])

    @property
    def status_label(self) -> str:
        return self.get_status_display().lower()

    @property
    def is_closed(self) -> bool:
        return self.status in (self.Status.RESOLVED, self.Status.DISMISSED)


class Concern(models.Model):
    """A safeguarding concern (R-SAFE-1, R-MSG-6): goes to the Safeguarding Lead group and no one else.

    Raised through `concerns.concern_raise`. States (DESIGN): new -> triaged -> action_taken -> closed; only the
    Safeguarding Lead's pages move them. The reporter gets a receipt, never the case.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        TRIAGED = "triaged", "Triaged"
        ACTION_TAKEN = "action_taken", "Action taken"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        MESSAGE = "message", "A message"
        PROFILE = "profile", "A profile"
        PAGE = "page", "The concern form"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="concerns_raised")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PAGE)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="concerns_about",
        verbose_name="about the person",
    )
    pairing = models.ForeignKey(
        "mentoring.Pairing", null=True, blank=True, on_delete=models.PROTECT, related_name="concerns"
    )
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reported message",
    )
    # Who it is about when the reporter could not pick them (someone they were never paired with).
    person_name = models.CharField("named by the reporter", max_length=200, blank=True)
    what_happened = models.TextField(max_length=5000)
    happened_on = models.DateField("when it happened", null=True, blank=True)
    immediate_risk = models.BooleanField("someone is at immediate risk")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.NEW)
    outcome = models.TextField(blank=True, max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)

    # Each state and the states the Lead may move it to (DESIGN); a closed concern stays closed. A concern that
    # needs nothing done may close from triage, with its outcome saying so.
    NEXT = {
        Status.NEW: (Status.TRIAGED,),
        Status.TRIAGED: (Status.ACTION_TAKEN, Status.CLOSED),
        Status.ACTION_TAKEN: (Status.CLOSED,),
        Status.CLOSED: (),
    }
    OPEN = (Status.NEW, Status.TRIAGED, Status.ACTION_TAKEN)

    class Meta:
        # The Lead's queue: urgent first, then the oldest.
        ordering = ["-immediate_risk", "created_at", "pk"]
        indexes = [models.Index(fields=["status", "-immediate_risk", "created_at"], name="concern_queue_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(outcome=""), name="closed_concern_has_outcome"
            )
        ]

    def __str__(self) -> str:
        return f"Concern {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("concern_detail", args=[self.pk])

    @property
    def urgency(self) -> str:
        """Put before the Lead's notification title: urgent concerns say so first."""
        return "URGENT: " if self.immediate_risk else ""

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def about(self) -> str:
        """Whom it is about, as the Lead's pages name them."""
        if self.person_id is not None:
            return self.person.get_full_name() or self.person.email
        return self.person_name or "Not named"


class ConcernNote(models.Model):
    """What the Safeguarding Lead wrote on a concern: a note, or an action taken (R-SAFE-2). Append-only: written
    by `concerns.concern_note_add` (and by a suspension), never changed or deleted."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        ACTION = "action", "Action taken"

    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on concern {self.concern_id}"


class Suspension(models.Model):
    """The Safeguarding Lead suspended a member at once over a concern (R-SAFE-2), until lifted.

    While open: the member's memberships are suspended (each one's earlier state kept in SuspendedMembership, to
    restore on lift), their running pairings paused, so no messages or meetings, and their profile unlisted
    (the eligibility engine reads the membership). One open suspension per member. Made and lifted only through
    mentoring/suspension.py. Its existence tells of a concern: the Lead group alone sees it.
    """

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="suspensions")
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="suspensions")
    suspended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    suspended_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    # The running pairings it holds paused (a pairing both of whose members are suspended is held by both).
    paused_pairings = models.ManyToManyField("mentoring.Pairing", blank=True, related_name="+")

    class Meta:
        ordering = ["-suspended_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"], condition=models.Q(lifted_at__isnull=True), name="one_open_suspension_per_member"
            ),
            models.CheckConstraint(
                condition=models.Q(lifted_at__isnull=True, lifted_by__isnull=True)
                | models.Q(lifted_at__isnull=False, lifted_by__isnull=False),
                name="suspension_lifted_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Suspension {self.pk} of {self.member}"

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None


class SuspendedMembership(models.Model):
    """A membership a suspension suspended, and the state it goes back to when the suspension is lifted."""

    suspension = models.ForeignKey(Suspension, on_delete=models.CASCADE, related_name="memberships")
    membership = models.ForeignKey("mentoring.SchemeMembership", on_delete=models.CASCADE, related_name="+")
    previous_status = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suspension", "membership"], name="suspend_each_membership_once"),
        ]

    def __str__(self) -> str:
        return f"Membership {self.membership_id} ({self.previous_status}) in suspension {self.suspension_id}"


class EligibleMembership(models.Model):
    """A scheme membership whose member the eligibility engine found eligible in its scheme and role (R-ELIG-*).

    Derived, never edited by hand: `safeguarding.eligible_table` writes it from `eligible_memberships`, the
    engine's own rules, on every save of something eligibility depends on and every 15 minutes as dates pass.
    A row exists while the membership is eligible. The dashboards count it rather than judging 20,000 members
    on each request; the engine stays the only definition, and a test proves the table agrees with it.
    """

    membership = models.OneToOneField(
        "mentoring.SchemeMembership", on_delete=models.CASCADE, primary_key=True, related_name="eligible_row"
    )

    def __str__(self) -> str:
        return f"membership {self.membership_id} eligible"
