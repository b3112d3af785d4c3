"""The eligibility engine: may this person act in this role in this scheme today?

Every gated action (publish a profile, request, accept, message) asks
`check` and shows its reasons; nothing else re-implements these rules
(R-ELIG-1 to R-ELIG-6). `check` never stops at the first problem: it returns
every unmet condition, each with a plain-language reason and the step that
fixes it.

Each rule is written once, as an object below, and both `check` (one member,
with reasons) and `eligible_users` (one queryset, for listing thousands) ask
the same object:

- the dates a rule compares against (the adult cutoff, the "DBS cleared since"
  cutoff) are computed once per day and scheme in `Criteria`, each derived from
  the one definition of the rule (`age_on`, `dbs_expires_on`);
- a rule on the member's own fields (age, membership) has its Python test and
  its `Q` written side by side on those same cutoffs, because callers may hold
  a member whose fields are not saved yet;
- a rule on records (training, DBS checks, accepted documents) has one filter;
  `check` evaluates that very filter on the member's own row, so the two sides
  cannot differ. tests/safeguarding/test_eligibility_agrees.py proves the whole
  agrees on generated members, dates and schemes.

The date a rule is judged on is the member's own date (`judged_on`), whoever
asks: a coordinator in another zone or a task running in UTC.
"""

from __future__ import annotations

import datetime
import functools
import operator
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property

from accounts.models import ADULT_AGE, MembershipStatus, age_on, local_today
from mentoring import permissions
from mentoring.models import Role, Scheme, SchemeMembership, TermsAcceptance, TermsVersion
from mentoring.shared_version import SharedVersion
from safeguarding.models import DBSCheck, TrainingKind, TrainingRecord

__all__ = [
    "ADULT_AGE",
    "STAFF_ONLY_CODES",
    "WITHHELD_REASON",
    "Condition",
    "Criteria",
    "Eligibility",
    "NotEligible",
    "check",
    "dbs_expires_on",
    "eligible_memberships",
    "eligible_users",
    "judged_on",
    "require",
    "years_after",
]

ONE_DAY = datetime.timedelta(days=1)

# Scheme membership states in which a member takes part; paused, withdrawn and
# suspended members may not act.
TAKING_PART = (SchemeMembership.Status.PENDING, SchemeMembership.Status.ACTIVE)

# Conditions whose reasons only the member, staff and the Safeguarding Lead read (R-SAFE-3); what others read.
STAFF_ONLY_CODES = frozenset({"dbs"})
WITHHELD_REASON = "A check that scheme staff handle is not complete."


@dataclass(frozen=True)
class Condition:
    """One condition of taking part, met or not."""

    code: str
    label: str  # what the checklist calls it: "Aged 18 or over"
    met: bool
    reason: str = ""  # why it is unmet, in plain words
    fix: str = ""  # the step that fixes it
    fix_url: str = ""


@dataclass(frozen=True)
class Eligibility:
    user_id: int
    scheme_id: int
    role: str
    conditions: list[Condition] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.met for c in self.conditions)

    @property
    def unmet(self) -> list[Condition]:
        return [c for c in self.conditions if not c.met]

    def reasons_for(self, viewer) -> list[str]:
        """The unmet reasons as `viewer` may read them: the member, staff and the Safeguarding Lead read every
        one; anyone else (a coordinator) reads a DBS reason in neutral words, as DBS data is criminal-offence
        data (R-SAFE-3)."""
        sees_all = viewer is not None and (viewer.pk == self.user_id or permissions.sees_dbs_data(viewer))
        return [c.reason if sees_all or c.code not in STAFF_ONLY_CODES else WITHHELD_REASON for c in self.unmet]


class NotEligible(ValidationError):
    """Raised by `require`. A ValidationError whose messages are the unmet reasons, in order.

    A view that catches ValidationError shows `error.messages`; `str(error)` is the same
    reasons as one plain sentence; `error.eligibility` has every condition with its fix.
    """

    def __init__(self, eligibility: Eligibility):
        self.eligibility = eligibility
        super().__init__([ValidationError(c.reason, code=c.code) for c in eligibility.unmet])

    def __str__(self) -> str:
        return " ".join(self.messages)

    def __reduce__(self):
        # Rebuilt from the Eligibility, so it survives pickling (a Celery result, a copy).
        return (type(self), (self.eligibility,))


# --- The documents every member accepts ----------------------------------------------------

DOCUMENTS_VERSION = SharedVersion("eligibility:documents-version")
DOCUMENTS_TTL_SECONDS = 60  # a version published for a later moment is current within this long of it
_documents: dict[str, tuple[str, float, tuple[TermsVersion, ...]]] = {}


def current_documents() -> tuple[TermsVersion, ...]:
    """The current version of each document a member must accept, read once per process and change.

    A save of any version clears the shared version key (safeguarding/apps.py), so every process
    reads them again at once; nothing else changes them but time, hence the short TTL.
    """
    version = DOCUMENTS_VERSION.current()
    cached = _documents.get("current")
    if cached and cached[0] == version and time.monotonic() - cached[1] < DOCUMENTS_TTL_SECONDS:
        return cached[2]
    documents = tuple(TermsVersion.objects.current_to_accept())
    _documents["current"] = (version, time.monotonic(), documents)
    return documents


def documents_changed(**kwargs) -> None:
    """Now, for this process's next read; and after commit, so no process keeps what it read before."""
    DOCUMENTS_VERSION.bump()


# --- The date a rule is judged on ------------------------------------------------------


def judged_on(user) -> datetime.date:
    """The date every rule is judged on for `user`: today where the member is (their own time zone)."""
    return local_today(user.time_zone)


# --- Dates, each defined once ----------------------------------------------------------


def years_after(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (or earlier, when negative); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year that has none
        return day.replace(year=day.year + years, day=28)


def dbs_expires_on(cleared_on: datetime.date, recheck_years: int) -> datetime.date:
    """The last day a DBS check cleared on `cleared_on` is current (R-ELIG-4).

    It expires on the anniversary `recheck_years` later: a check cleared on
    28 February 2025 with a three-year recheck is current up to and including
    28 February 2028, and expired on 29 February 2028. One cleared on 29 February
    expires on 28 February of a non-leap year.
    """
    return years_after(cleared_on, recheck_years)


def _first_day(holds: Callable[[datetime.date], bool], near: datetime.date) -> datetime.date:
    """The earliest day on which `holds` is true, for a `holds` that stays true once it is.

    `near` is a guess a day or two from the answer, so this steps a few days at most.
    Used to turn a rule stated forwards ("expires on") into the cutoff a query needs.
    """
    day = near
    while not holds(day):
        day += ONE_DAY
    while holds(day - ONE_DAY):
        day -= ONE_DAY
    return day


def _last_day(holds: Callable[[datetime.date], bool], near: datetime.date) -> datetime.date:
    """The latest day on which `holds` is true, for a `holds` that stays false once it is."""
    day = near
    while not holds(day):
        day -= ONE_DAY
    while holds(day + ONE_DAY):
        day += ONE_DAY
    return day


@dataclass(frozen=True)
class Criteria:
    """What taking part asks on one day, in one scheme, in one role: every rule's cutoffs, computed once.

    `check` tests one member against it; `eligible_users` turns it into one filter.
    """

    scheme: Scheme
    role: str
    today: datetime.date
    documents: tuple[TermsVersion, ...]  # the current versions a member must accept

    @classmethod
    def on(cls, today: datetime.date, scheme: Scheme, role: str, *, documents=None) -> Criteria:
        if documents is None:
            documents = current_documents()
        return cls(scheme=scheme, role=role, today=today, documents=tuple(documents))

    @cached_property
    def adult_born_by(self) -> datetime.date:
        """Members born on or before this day are 18 or over today (derived from `age_on`, R-ELIG-1)."""
        return _last_day(lambda born: age_on(born, self.today) >= ADULT_AGE, near=years_after(self.today, -ADULT_AGE))

    @cached_property
    def dbs_cleared_since(self) -> datetime.date:
        """A cleared DBS check is current today if cleared on or after this day (derived from `dbs_expires_on`)."""
        years = self.scheme.dbs_recheck_years
        return _first_day(
            lambda cleared: dbs_expires_on(cleared, years) >= self.today, near=years_after(self.today, -years)
        )

    @property
    def rules(self) -> list[Rule]:
        return [rule for rule in RULES if rule.applies(self)]

    def q(self) -> Q:
        """Members (as User rows) who meet every rule."""
        return functools.reduce(operator.and_, (rule.q(self) for rule in self.rules), Q())


@dataclass(frozen=True)
class Evidence:
    """What `check` holds about one member: their row as the caller has it, their scheme
    membership, and the answers of the record rules' own filters on their row (one query)."""

    user: object
    membership: SchemeMembership | None
    facts: dict

    @classmethod
    def gather(cls, user, membership, criteria: Criteria) -> Evidence:
        annotations = {}
        for rule in criteria.rules:
            annotations.update(rule.annotations(criteria))
        facts = {}
        if annotations and user.pk is not None:
            facts = get_user_model().objects.filter(pk=user.pk).values(**annotations).first() or {}
        return cls(user=user, membership=membership, facts=facts)


# --- The rules -------------------------------------------------------------------------


class Rule:
    """One condition of taking part.

    `q(criteria)` filters User rows to those who meet it (a Q or an Exists); `condition(evidence, criteria)`
    says whether one member meets it, why not and what fixes it. A rule on records
    also names, in `annotations`, the expressions `check` evaluates on the member's row:
    its own `q` under its code, and the facts its reasons need.
    """

    code: str

    def applies(self, criteria: Criteria) -> bool:
        return True

    def q(self, criteria: Criteria) -> Q | Exists:
        raise NotImplementedError

    def annotations(self, criteria: Criteria) -> dict:
        return {}

    def condition(self, evidence: Evidence, criteria: Criteria) -> Condition:
        raise NotImplementedError

    def fact(self, evidence: Evidence, name: str = ""):
        return evidence.facts.get(self._alias(name))

    def _alias(self, name: str = "") -> str:
        # Prefixed so an alias never clashes with a field of User.
        return f"rule_{self.code}_{name}" if name else f"rule_{self.code}"


class Joined(Rule):
    """Joined the scheme in this role, and neither paused, withdrawn nor suspended (R-ELIG-6)."""

    code = "joined"

    def q(self, criteria):
        return Exists(
            SchemeMembership.objects.filter(
                user=OuterRef("pk"), scheme=criteria.scheme, role=criteria.role, status__in=TAKING_PART
            )
        )

    def met(self, membership: SchemeMembership | None) -> bool:
        return membership is not None and membership.status in TAKING_PART

    def condition(self, evidence, criteria):
        scheme, role = criteria.scheme, Role(criteria.role).label.lower()
        label = f"Joined {scheme} as a {role}"
        membership = evidence.membership
        if self.met(membership):
            return Condition(self.code, label, True)
        if membership is None:
            return Condition(
                self.code,
                label,
                False,
                f"You have not joined {scheme} as a {role}.",
                "Join the scheme.",
                reverse("scheme_join"),
            )
        if membership.status == SchemeMembership.Status.WITHDRAWN:
            return Condition(
                self.code,
                label,
                False,
                "You withdrew from this scheme.",
                "Join the scheme again.",
                reverse("scheme_join"),
            )
        if membership.status == SchemeMembership.Status.PAUSED:
            return Condition(
                self.code, label, False, "You have paused your participation.", "Resume when you are ready."
            )
        return Condition(
            self.code,
            label,
            False,
            "Your participation is suspended.",
            "The scheme staff will contact you; you can also write to your coordinator.",
        )


class Adult(Rule):
    """Aged 18 or over on the day of the check; a 29 February birthday counts from 1 March (R-ELIG-1)."""

    code = "age"

    def q(self, criteria):
        return Q(date_of_birth__lte=criteria.adult_born_by)

    def met(self, user, criteria) -> bool:
        return user.date_of_birth is not None and user.date_of_birth <= criteria.adult_born_by

    def condition(self, evidence, criteria):
        label = "Aged 18 or over"
        user = evidence.user
        if self.met(user, criteria):
            return Condition(self.code, label, True)
        if user.date_of_birth is None:
            return Condition(
                self.code,
                label,
                False,
                "We do not have your date of birth.",
                "Add your date of birth to your details.",
                reverse("account_details"),
            )
        return Condition(
            self.code,
            label,
            False,
            "The scheme is open to members aged 18 or over.",
            "You can join once you turn 18.",
        )


class ActiveMembership(Rule):
    """A checked, active, unexpired membership of the professional body (R-ELIG-2)."""

    code = "membership"

    def q(self, criteria):
        return (
            ~Q(membership_number="")
            & Q(membership_status=MembershipStatus.ACTIVE)
            & (Q(membership_expires_on__isnull=True) | Q(membership_expires_on__gte=criteria.today))
        )

    def met(self, user, criteria) -> bool:
        return (
            user.membership_number != ""
            and user.membership_status == MembershipStatus.ACTIVE
            and (user.membership_expires_on is None or user.membership_expires_on >= criteria.today)
        )

    def condition(self, evidence, criteria):
        label = "Active membership"
        user = evidence.user
        fix_contact = "Your Local Network coordinator or the membership team records it once checked."
        if self.met(user, criteria):
            return Condition(self.code, label, True)
        if not user.membership_number:
            return Condition(
                self.code,
                label,
                False,
                "We do not have your membership number.",
                "Add your membership number to your details.",
                reverse("account_details"),
            )
        if user.membership_status == MembershipStatus.UNVERIFIED:
            return Condition(
                self.code,
                label,
                False,
                f"Your membership number {user.membership_number} has not been checked yet.",
                fix_contact,
            )
        return Condition(
            self.code,
            label,
            False,
            "Your membership has lapsed; participation is suspended until it is renewed.",
            "Renew your membership; " + fix_contact[0].lower() + fix_contact[1:],
        )


class DocumentsAccepted(Rule):
    """The current terms, code of conduct and privacy notice accepted (R-ELIG-5)."""

    code = "documents"

    def _accepted(self, version: TermsVersion) -> Exists:
        return Exists(TermsAcceptance.objects.filter(user=OuterRef("pk"), version=version))

    def q(self, criteria):
        return functools.reduce(operator.and_, (self._accepted(v) for v in criteria.documents), Q())

    def annotations(self, criteria):
        return {self._alias(str(v.pk)): self._accepted(v) for v in criteria.documents}

    def condition(self, evidence, criteria):
        label = "Terms, code of conduct and privacy notice accepted"
        missing = [v for v in criteria.documents if not self.fact(evidence, str(v.pk))]
        if not missing:
            return Condition(self.code, label, True)
        names = ", ".join(f"{v.get_kind_display().lower()} ({v.version})" for v in missing)
        return Condition(
            self.code,
            label,
            False,
            f"You have not yet accepted the current {names}.",
            "Read and accept them.",
            reverse("documents_accept"),
        )


class TrainingCompleted(Rule):
    """A course a mentor completes, current on the day: no expiry, or expiring today or later (R-ELIG-3)."""

    def __init__(self, kind: TrainingKind):
        self.kind = kind
        self.code = kind.value

    def applies(self, criteria):
        return criteria.role == Role.MENTOR

    def _records(self):
        return TrainingRecord.objects.filter(user=OuterRef("pk"), kind=self.kind)

    def q(self, criteria):
        current = Q(expires_on__isnull=True) | Q(expires_on__gte=criteria.today)
        return Exists(self._records().filter(current))

    def annotations(self, criteria):
        latest = self._records().filter(expires_on__isnull=False).order_by("-expires_on").values("expires_on")[:1]
        return {self._alias(): self.q(criteria), self._alias("latest_expiry"): Subquery(latest)}

    def condition(self, evidence, criteria):
        label = f"{self.kind.label} completed"
        if self.fact(evidence):
            return Condition(self.code, label, True)
        fix = f"Complete the {self.kind.label}; your Local Network coordinator then records it here."
        fix_url = reverse("training_events")
        # None is current, so every record (if any) has an expiry date: name the latest.
        expired_on = self.fact(evidence, "latest_expiry")
        if expired_on is not None:
            return Condition(
                self.code,
                label,
                False,
                f"Your {self.kind.label} expired on {date_format(expired_on, 'j F Y')}.",
                "Take the refresher. " + fix,
                fix_url,
            )
        return Condition(
            self.code, label, False, f"Mentors complete the {self.kind.label} before they start.", fix, fix_url
        )


class DBSCleared(Rule):
    """A cleared DBS check, current under the scheme's recheck interval, where the scheme asks for one (R-ELIG-4)."""

    code = "dbs"

    def applies(self, criteria):
        return criteria.role == Role.MENTOR and criteria.scheme.dbs_required

    def _checks(self):
        return DBSCheck.objects.filter(user=OuterRef("pk"))

    def q(self, criteria):
        cleared = self._checks().filter(status=DBSCheck.Status.CLEARED, cleared_on__gte=criteria.dbs_cleared_since)
        return Exists(cleared)

    def annotations(self, criteria):
        in_progress = [DBSCheck.Status.REQUESTED, DBSCheck.Status.SUBMITTED]
        return {
            self._alias(): self.q(criteria),
            self._alias("refused"): Exists(self._checks().filter(status=DBSCheck.Status.REFUSED)),
            self._alias("in_progress"): Exists(self._checks().filter(status__in=in_progress)),
            self._alias("any"): Exists(self._checks()),
        }

    def condition(self, evidence, criteria):
        label = "DBS check cleared"
        scheme = criteria.scheme
        fix = "Staff request the check; you complete the form they send you."
        if self.fact(evidence):
            return Condition(self.code, label, True)
        if self.fact(evidence, "refused"):
            return Condition(
                self.code,
                label,
                False,
                "Your DBS check was refused, so you cannot mentor in this scheme.",
                "Contact the scheme staff if you believe this is wrong.",
            )
        if self.fact(evidence, "in_progress"):
            return Condition(
                self.code,
                label,
                False,
                "Your DBS check is in progress.",
                "Nothing to do yet: we will update this list when it clears.",
            )
        if self.fact(evidence, "any"):
            return Condition(
                self.code,
                label,
                False,
                f"{scheme} needs a DBS check renewed every {scheme.dbs_recheck_years} years; yours has expired.",
                fix,
            )
        return Condition(self.code, label, False, f"{scheme} needs a cleared DBS check for mentors.", fix)


# In the order the checklist shows them.
RULES: tuple[Rule, ...] = (
    Joined(),
    Adult(),
    ActiveMembership(),
    DocumentsAccepted(),
    TrainingCompleted(TrainingKind.SAFEGUARDING_ELEARNING),
    TrainingCompleted(TrainingKind.MENTOR_TRAINING),
    DBSCleared(),
)


# --- The public entry points -----------------------------------------------------------


def check(
    user,
    scheme: Scheme,
    role: str,
    *,
    today: datetime.date | None = None,
    membership: SchemeMembership | bool | None = False,
) -> Eligibility:
    """Every condition for `user` acting as `role` in `scheme` on `today` (default: the member's own date).

    Pass `membership` when the caller already holds it (None means "has none").
    Runs four queries at most (the current documents take two, the membership one,
    the member's records one); reads only.
    """
    criteria = Criteria.on(today or judged_on(user), scheme, role)
    if membership is False:
        membership = SchemeMembership.objects.filter(user=user, scheme=scheme, role=role).first()
    evidence = Evidence.gather(user, membership, criteria)
    conditions = [rule.condition(evidence, criteria) for rule in criteria.rules]
    return Eligibility(user_id=user.pk, scheme_id=scheme.pk, role=role, conditions=conditions)


def require(user, scheme: Scheme, role: str, **kwargs) -> Eligibility:
    """`check`, raising NotEligible (with every reason) when any condition is unmet."""
    result = check(user, scheme, role, **kwargs)
    if not result.ok:
        raise NotEligible(result)
    return result


def _judging_days(zones, now) -> list[tuple[datetime.date, Callable[[str], Q]]]:
    """The dates members are judged on at `now`, each with a condition on a time-zone field saying whose date
    it is: the zones (`zones`, the candidates') are grouped by the date it is there; the largest group's
    condition is "in none of the other groups' zones", so a zone not among `zones` (say, one changed a moment
    ago) is judged with the largest group."""
    zones_by_date: dict[datetime.date, list[str]] = defaultdict(list)
    for zone in zones:
        zones_by_date[local_today(zone, at=now)].append(zone)
    if not zones_by_date:
        zones_by_date[local_today("", at=now)] = []
    groups = sorted(zones_by_date.items(), key=lambda item: len(item[1]), reverse=True)
    (largest_date, _), others = groups[0], groups[1:]
    elsewhere = [zone for _, zones_there in others for zone in zones_there]
    days = [(largest_date, lambda field: ~Q(**{f"{field}__in": elsewhere}))]
    days += [(day, lambda field, there=there: Q(**{f"{field}__in": there})) for day, there in others]
    return days


def eligible_users(scheme: Scheme, role: str, *, today: datetime.date | None = None):
    """The users `check` finds eligible, as one queryset (for listing thousands of mentors).

    With `today`, everyone is judged on that date, as `check(..., today=today)` does.
    Without it, each member is judged on their own date, as `check` does by default:
    the candidates' time zones are grouped by the date it is there now, and each
    group is filtered with that date's cutoffs (`_judging_days`).
    Runs two queries to build it (the current documents), and one more without `today`
    (the candidates' time zones).
    """
    documents = current_documents()
    users = get_user_model().objects.all()
    if today is not None:
        return users.filter(Criteria.on(today, scheme, role, documents=documents).q())

    candidates_zones = (
        SchemeMembership.objects.filter(scheme=scheme, role=role)
        .order_by()
        .values_list("user__time_zone", flat=True)
        .distinct()
    )
    days = _judging_days(candidates_zones, timezone.now())
    where = functools.reduce(
        operator.or_,
        (in_zones("time_zone") & Criteria.on(day, scheme, role, documents=documents).q() for day, in_zones in days),
    )
    return users.filter(where)


def eligible_memberships(schemes, *, today: datetime.date | None = None, user_ids=None) -> Q:
    """A condition on SchemeMembership rows: the member is eligible in the row's scheme and role, exactly as
    `eligible_users(scheme, role)` finds them (each member on their own date, or everyone on `today`).

    For counting over many memberships of several schemes and roles at once (the staff dashboards): each
    rule's condition is written once as a subquery of users, however many of the (scheme, role) pairs share it
    (the documents, age and membership rules are the same for all), and asked only of the rows of the pairs it
    applies to. The database then plans and runs a few small subqueries rather than a large one per pair,
    which on 20,000 members took it longer to plan than to run. Runs the queries `eligible_users` does: the
    current documents, and without `today` the members' time zones (of `user_ids` only, when given: the
    condition is then meant for those members' rows).
    """
    schemes = list(schemes)
    documents = current_documents()
    if today is not None:
        days = [(today, lambda field: Q())]
    else:
        zones = (
            SchemeMembership.objects.filter(scheme__in=schemes)
            .order_by()
            .values_list("user__time_zone", flat=True)
            .distinct()
        )
        if user_ids is not None:
            zones = zones.filter(user_id__in=user_ids)
        days = _judging_days(zones, timezone.now())
    pairs = [(scheme, role) for scheme in schemes for role in Role.values]
    if not pairs:
        return Q(pk__in=[])
    return _rules_met(pairs, days, documents)


def _rows_of_pairs(pairs) -> Q:
    """Membership rows of any of `pairs` (scheme id, role)."""
    return functools.reduce(operator.or_, (Q(scheme_id=scheme_id, role=role) for scheme_id, role in pairs))


def _rules_met(pairs, days, documents) -> Q:
    """On membership rows of `pairs` (scheme, role), each judged on its member's day of `days`: every rule of the
    row's pair met on that day.

    One subquery per distinct rule condition, whichever days and pairs share it (the documents rule is the same
    on every day), asked only of the rows it applies to. The Joined rule is the row's own status: a member has
    one membership per scheme and role (one_membership_per_scheme_role), so on its row the rule's subquery is
    that very row."""
    users = get_user_model().objects
    cases = [(index, scheme.pk, role) for index in range(len(days)) for scheme, role in pairs]
    shared: dict[tuple, tuple] = {}  # (sql, params) -> (subquery, the cases it applies to)
    for index, (day, _) in enumerate(days):
        for scheme, role in pairs:
            criteria = Criteria.on(day, scheme, role, documents=documents)
            for rule in criteria.rules:
                if isinstance(rule, Joined):
                    continue
                meeting = users.filter(rule.q(criteria)).values("pk")
                sql, params = meeting.query.sql_with_params()
                shared.setdefault((sql, repr(params)), (meeting, []))[1].append((index, scheme.pk, role))

    all_pairs = {(scheme.pk, role) for scheme, role in pairs}

    def rows_of(some) -> Q:
        by_day: dict[int, set] = defaultdict(set)
        for index, scheme_id, role in some:
            by_day[index].add((scheme_id, role))
        return functools.reduce(
            operator.or_,
            (
                days[index][1]("user__time_zone") & (Q() if chosen == all_pairs else _rows_of_pairs(sorted(chosen)))
                for index, chosen in by_day.items()
            ),
        )

    where = Q(status__in=TAKING_PART) & _rows_of_pairs([(scheme.pk, role) for scheme, role in pairs])
    for meeting, applies_to in shared.values():
        met = Q(user__in=meeting)
        if len(applies_to) < len(cases):
            met |= ~rows_of(applies_to)
        where &= met
    return where
