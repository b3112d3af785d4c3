"""The staff dashboards' figures (R-REPORT-1, R-REPORT-2): read-only, counts only, never a query per row.

Each figure is one aggregate query over the rows in scope (the funnel's eligible members are those the
eligibility engine's table holds). A `Scope` says which rows count: the networks
a coordinator coordinates (None for staff: the whole scheme), and the filters of the form.
"""

from __future__ import annotations

import datetime
import functools
import operator
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    OuterRef,
    Q,
)
from django.utils import timezone
from django_countries import countries

from matching.models import MentorListing, MentorshipRequest
from mentoring.models import Feedback, Meeting, Pairing, Role, Scheme, SchemeMembership
from messaging.models import Notification
from messaging.selectors import confidential_reads_count
from safeguarding.eligibility import Criteria
from safeguarding.models import Complaint, Concern, DBSCheck, TrainingKind, TrainingRecord


@dataclass(frozen=True)
class Scope:
    network_ids: frozenset[int] | None = None  # None: every network (staff)
    scheme: Scheme | None = None
    network_id: int | None = None
    country: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None

    @property
    def since(self) -> datetime.datetime | None:
        if self.date_from is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(self.date_from, datetime.time.min))

    @property
    def before(self) -> datetime.datetime | None:
        """The first moment after the range (the end date is included)."""
        if self.date_to is None:
            return None
        day_after = self.date_to + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day_after, datetime.time.min))

    def in_range(self, field: str) -> Q:
        q = Q()
        if self.since is not None:
            q &= Q(**{f"{field}__gte": self.since})
        if self.before is not None:
            q &= Q(**{f"{field}__lt": self.before})
        return q

    def networks(self, field: str) -> Q:
        q = Q()
        if self.network_ids is not None:
            q &= Q(**{f"{field}__in": self.network_ids})
        if self.network_id is not None:
            q &= Q(**{field: self.network_id})
        return q


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: tuple[str, str]
    rows: list[tuple[str, int | float | str]]
    chart: str = ""  # "bar" or "doughnut" when the dashboard draws it


# The figures several tables read from the same rows, asked once per page (`build_tables`).
_shared: ContextVar[dict | None] = ContextVar("reports_shared", default=None)


def _once(key: str, scope: Scope, compute):
    memo = _shared.get()
    if memo is None:
        return compute(scope)
    if (key, scope) not in memo:
        memo[key, scope] = compute(scope)
    return memo[key, scope]


def memberships(scope: Scope):
    """The memberships that count: in scope's networks, scheme and country, joined within the range."""
    rows = SchemeMembership.objects.filter(scope.networks("network_id"), scope.in_range("joined_at"))
    if scope.scheme is not None:
        rows = rows.filter(scheme=scope.scheme)
    if scope.country:
        rows = rows.filter(user__country=scope.country)
    return rows.order_by()


def pairings(scope: Scope):
    """The pairings of scope's networks and scheme; by country, the mentee's."""
    rows = Pairing.objects.filter(scope.networks("network_id"))
    if scope.scheme is not None:
        rows = rows.filter(scheme=scope.scheme)
    if scope.country:
        rows = rows.filter(mentee__country=scope.country)
    return rows.order_by()


def members_by_role(scope: Scope) -> Table:
    figures = _once("members", scope, _member_figures)
    rows = [(label, figures[f"role_{value}"]) for value, label in Role.choices]
    return Table("members-by-role", "Members by role", ("Role", "Members"), rows, chart="doughnut")


def members_by_network(scope: Scope) -> Table:
    counted = (
        memberships(scope)
        .values_list("network__name")
        .annotate(n=Count("user", distinct=True))
        .order_by("network__name")
    )
    return Table("members-by-network", "Members by Local Network", ("Local Network", "Members"), list(counted))


def members_by_country(scope: Scope) -> Table:
    if scope.country:
        # Filtered to one country, the table is that country's row: the funnel's registered members, already
        # counted over the same memberships (no second pass over them).
        registered = _once("members", scope, _member_figures)["registered"]
        counted = [(scope.country, registered)] if registered else []
    else:
        counted = memberships(scope).values_list("user__country").annotate(n=Count("user", distinct=True))
    rows = sorted(((countries.name(code) or "Not given") if code else "Not given", n) for code, n in counted)
    return Table("members-by-country", "Members by country", ("Country", "Members"), rows)


def _in_scheme(schemes: list[Scheme], members_of) -> Q:
    """Memberships whose member is among `members_of(scheme)` (a query of user ids) in the membership's own
    scheme: one hashed set per scheme (there are few), not a lookup per membership (a third faster on 20,000)."""
    return functools.reduce(
        operator.or_, (Q(scheme=scheme, user__in=members_of(scheme)) for scheme in schemes), Q(pk__in=[])
    )


def _member_figures(scope: Scope) -> dict:
    """One aggregate over the memberships in scope for the funnel, members-by-role and training tables
    (distinct members each): one scan, and by country one join to the members, instead of three."""
    schemes = [scope.scheme] if scope.scheme is not None else list(Scheme.objects.order_by("pk"))
    pending, active = MentorshipRequest.Status.PENDING, Pairing.Status.ACTIVE
    listed = _in_scheme(schemes, lambda s: MentorListing.objects.filter(scheme=s).values("mentor"))
    requesting = _in_scheme(
        schemes, lambda s: MentorshipRequest.objects.filter(scheme=s, status=pending).values("mentee")
    )
    paired_mentor = _in_scheme(schemes, lambda s: Pairing.objects.filter(scheme=s, status=active).values("mentor"))
    paired_mentee = _in_scheme(schemes, lambda s: Pairing.objects.filter(scheme=s, status=active).values("mentee"))
    mentor, mentee = Q(role=Role.MENTOR), Q(role=Role.MENTEE)
    current = Q(expires_on__isnull=True) | Q(expires_on__gte=timezone.localdate())
    return memberships(scope).aggregate(
        registered=Count("user", distinct=True),
        eligible=Count("user", distinct=True, filter=Q(eligible_row__isnull=False)),
        listed_or_requesting=Count("user", distinct=True, filter=(mentor & listed) | (mentee & requesting)),
        paired=Count("user", distinct=True, filter=(mentor & paired_mentor) | (mentee & paired_mentee)),
        **{f"role_{value}": Count("user", distinct=True, filter=Q(role=value)) for value in Role.values},
        **{
            # Asked of each course's current records once (a hashed set of members), not of each mentor.
            f"trained_{kind.value}": Count(
                "user",
                distinct=True,
                filter=mentor & Q(user__in=TrainingRecord.objects.filter(current, kind=kind).values("user")),
            )
            for kind in TrainingKind
        },
    )


def funnel(scope: Scope) -> Table:
    """Registered -> eligible -> listed (a mentor) or requesting (a mentee) -> paired: distinct members.

    Eligible is read from the table the engine keeps (safeguarding/eligible_table.py): what its rules said at
    the last save or scheduled refresh, at most 15 minutes behind a date passing."""
    figures = _once("members", scope, _member_figures)
    rows = [
        ("Registered", figures["registered"]),
        ("Eligible", figures["eligible"]),
        ("Listed (mentors) or requesting (mentees)", figures["listed_or_requesting"]),
        ("Paired", figures["paired"]),
    ]
    return Table("funnel", "Eligibility funnel", ("Stage", "Members"), rows)


def _pairing_figures(scope: Scope) -> dict:
    """One aggregate over the pairings in scope for the pairings, ended-by-reason, active-over-time and
    meetings tables: one scan (and, by country, one join to the mentees) instead of four."""
    ended = Q(status=Pairing.Status.ENDED) & scope.in_range("ended_at")
    reasons = [*Pairing.EndReason.values, ""]
    return pairings(scope).aggregate(
        pairings=Count("pk"),
        active=Count("pk", filter=Q(status=Pairing.Status.ACTIVE) & scope.in_range("started_at")),
        ended=Count("pk", filter=ended),
        **{f"reason{i}": Count("pk", filter=ended & Q(end_reason=value)) for i, value in enumerate(reasons)},
        **{
            f"m{i}": Count(
                "pk", filter=Q(started_at__lt=_after(end)) & (Q(ended_at__isnull=True) | Q(ended_at__gte=_after(end)))
            )
            for i, (_, end) in enumerate(_month_ends(scope))
        },
    )


def pairings_by_status(scope: Scope) -> Table:
    figures = _once("pairings", scope, _pairing_figures)
    rows = [("Active (started in the range)", figures["active"]), ("Ended (in the range)", figures["ended"])]
    return Table("pairings", "Pairings", ("Pairings", "Number"), rows)


def ended_by_reason(scope: Scope) -> Table:
    figures = _once("pairings", scope, _pairing_figures)
    *given, not_given = [figures[f"reason{i}"] for i in range(len(Pairing.EndReason.values) + 1)]
    rows = [(label, n) for (_, label), n in zip(Pairing.EndReason.choices, given, strict=True)]
    if not_given:
        rows.append(("Not given", not_given))
    return Table("ended-by-reason", "Ended pairings by reason", ("Reason", "Pairings"), rows, chart="bar")


class _MedianDays(Aggregate):
    """PostgreSQL's exact median of an interval, in days: the middle value, or the middle two's mean."""

    function = "PERCENTILE_CONT"
    # date_part is a double; EXTRACT returns a numeric, which sorts 50,000 waits 18 ms slower.
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY date_part('epoch', %(expressions)s) / 86400.0)"
    output_field = FloatField()


def days_to_match(scope: Scope) -> Table:
    """Median days from the mentee joining the scheme to the pairing starting, over pairings started in range.

    On PostgreSQL one query (its ordered-set aggregate, 50,000 pairings in a third of the time of sorting them
    for the middle row); elsewhere two: how many there are, then the middle one or two in order of their wait.
    No row per pairing comes back either way.
    """
    joined = FilteredRelation(
        "mentee__memberships",
        condition=Q(mentee__memberships__scheme=F("scheme"), mentee__memberships__role=Role.MENTEE),
    )
    spans = (
        pairings(scope)
        .filter(scope.in_range("started_at"))
        .annotate(joined=joined)
        .filter(started_at__gte=F("joined__joined_at"))
        .annotate(wait=ExpressionWrapper(F("started_at") - F("joined__joined_at"), output_field=DurationField()))
    )
    if connection.vendor == "postgresql":
        figures = spans.aggregate(counted=Count("pk"), median=_MedianDays("wait"))
        counted, median = figures["counted"], figures["median"]
        median = round(median, 1) if counted else "No pairings"
    else:
        counted = spans.count()
        # Asked even when there are none, so the page asks as many queries whatever the data.
        middle = spans.order_by("wait", "pk").values_list("wait", flat=True)[
            max(counted - 1, 0) // 2 : counted // 2 + 1
        ]
        days = [wait.total_seconds() / 86400 for wait in middle]
        median = round(sum(days) / len(days), 1) if days else "No pairings"  # the middle one, or the two's mean
    rows = [("Median days to a match", median), ("Pairings counted", counted)]
    return Table("days-to-match", "Days from joining to a match", ("Figure", "Value"), rows)


def meetings_and_feedback(scope: Scope) -> Table:
    """Meetings held per pairing and the members' feedback, over the pairings in scope (three queries)."""
    in_scope = pairings(scope)
    # Every meeting and every answer belongs to a pairing: with no network, scheme or country asked, every
    # pairing is in scope, and the database need not join the meetings or answers to the pairings to know it.
    of_pairings = Q(pairing__in=in_scope.values("pk")) if _limits_pairings(scope) else Q()
    figures = {
        "pairings": _once("pairings", scope, _pairing_figures)["pairings"],
        # Counted from the meetings' side: no DISTINCT over every pairing joined to every meeting.
        "held": Meeting.objects.filter(of_pairings, scope.in_range("starts_at"), status=Meeting.Status.HELD).count(),
    }
    feedback = Feedback.objects.filter(of_pairings, **_range_kwargs(scope, "created_at")).aggregate(
        mean=Avg("rating"), answers=Count("pk"), low=Count("pk", filter=Q(rating__lte=2))
    )
    per_pairing = round(figures["held"] / figures["pairings"], 2) if figures["pairings"] else "No pairings"
    rows = [
        ("Meetings held per pairing", per_pairing),
        ("Feedback answers", feedback["answers"]),
        ("Mean feedback (1 to 5)", round(feedback["mean"], 2) if feedback["mean"] is not None else "No answers"),
        ("Feedback rated 2 or less", feedback["low"]),
    ]
    return Table("meetings-feedback", "Meetings and feedback", ("Figure", "Value"), rows)


def _limits_pairings(scope: Scope) -> bool:
    """Whether `pairings(scope)` leaves any pairing out (the dates do not: each figure applies them itself)."""
    return scope.network_ids is not None or scope.network_id is not None or scope.scheme is not None or scope.country


def _range_kwargs(scope: Scope, field: str) -> dict:
    kwargs = {}
    if scope.since is not None:
        kwargs[f"{field}__gte"] = scope.since
    if scope.before is not None:
        kwargs[f"{field}__lt"] = scope.before
    return kwargs


def _month_ends(scope: Scope) -> list[tuple[datetime.date, datetime.date]]:
    """The last twelve months (or the months of the range, at most 36): each month's first and last day."""
    today = timezone.localdate()
    last = scope.date_to or today
    first = scope.date_from or (last.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    month_ends = []
    month = first.replace(day=1)
    while month <= last and len(month_ends) < 36:
        following = (month + datetime.timedelta(days=32)).replace(day=1)
        month_ends.append((month, min(following - datetime.timedelta(days=1), last)))
        month = following
    return month_ends


def active_over_time(scope: Scope) -> Table:
    """Pairings active at the end of each of the last twelve months (or of the months of the range)."""
    figures = _once("pairings", scope, _pairing_figures)
    rows = [(start.strftime("%B %Y"), figures[f"m{i}"]) for i, (start, _) in enumerate(_month_ends(scope))]
    return Table(
        "active-over-time", "Active pairings at the end of each month", ("Month", "Pairings"), rows, chart="line"
    )


def _after(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


def training_compliance(scope: Scope) -> Table:
    """Mentors in scope with each course current today, beside how many mentors there are."""
    figures = _once("members", scope, _member_figures)
    rows = [("Mentors", figures[f"role_{Role.MENTOR}"])]
    rows += [(f"{kind.label} current", figures[f"trained_{kind.value}"]) for kind in TrainingKind]
    return Table("training", "Training compliance (mentors)", ("Figure", "Mentors"), rows)


def dbs_compliance(scope: Scope) -> Table:
    """Mentors of schemes that ask for a DBS check with one cleared and current today: counts only, staff only
    (DBS data is criminal-offence data, R-SAFE-3). One query per such scheme."""
    schemes = [scope.scheme] if scope.scheme is not None else list(Scheme.objects.filter(dbs_required=True))
    mentors = with_check = 0
    for scheme in schemes:
        if not scheme.dbs_required:
            continue
        since = Criteria.on(timezone.localdate(), scheme, Role.MENTOR, documents=()).dbs_cleared_since
        cleared = DBSCheck.objects.filter(user=OuterRef("user"), status=DBSCheck.Status.CLEARED, cleared_on__gte=since)
        figures = (
            memberships(scope)
            .filter(scheme=scheme, role=Role.MENTOR)
            .aggregate(
                mentors=Count("user", distinct=True), current=Count("user", distinct=True, filter=Q(Exists(cleared)))
            )
        )
        mentors += figures["mentors"]
        with_check += figures["current"]
    rows = [("Mentors in schemes that ask for a DBS check", mentors), ("With a current cleared check", with_check)]
    return Table("dbs", "DBS compliance (counts only)", ("Figure", "Mentors"), rows)


def notices_sent(scope: Scope) -> Table:
    """Notices the platform sent members in the range, by kind (one query; the whole scheme, staff only)."""
    counted = (
        Notification.objects.filter(**_range_kwargs(scope, "created_at"))
        .order_by()
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by("-n", "kind")
    )
    rows = [(kind.replace("_", " ").capitalize(), n) for kind, n in counted]
    return Table("notices", "Notices sent, by kind", ("Kind", "Notices"), rows)


def safeguarding_counts(scope: Scope) -> Table:
    """Counts only, scheme-wide (concerns and complaints belong to no network); for staff only."""
    concerns_open = Concern.objects.filter(status__in=Concern.OPEN).count()
    complaints_open = Complaint.objects.filter(
        status__in=[Complaint.Status.RECEIVED, Complaint.Status.INVESTIGATING]
    ).count()
    rows = [
        ("Open safeguarding concerns", concerns_open),
        ("Open complaints", complaints_open),
        (
            "Confidential reads of conversations" + (" since the start date" if scope.since else ""),
            confidential_reads_count(since=scope.since),
        ),
    ]
    return Table("safeguarding", "Safeguarding and complaints (counts only, whole scheme)", ("Figure", "Number"), rows)


NETWORK_TABLES = {
    "members-by-role": members_by_role,
    "members-by-network": members_by_network,
    "members-by-country": members_by_country,
    "funnel": funnel,
    "pairings": pairings_by_status,
    "ended-by-reason": ended_by_reason,
    "days-to-match": days_to_match,
    "active-over-time": active_over_time,
    "meetings-feedback": meetings_and_feedback,
    "training": training_compliance,
}
STAFF_TABLES = {"dbs": dbs_compliance, "notices": notices_sent, "safeguarding": safeguarding_counts}


def table_names(*, staff: bool) -> list[str]:
    return [*NETWORK_TABLES, *(STAFF_TABLES if staff else {})]


def build_table(name: str, scope: Scope) -> Table:
    return {**NETWORK_TABLES, **STAFF_TABLES}[name](scope)


def build_tables(names: list[str], scope: Scope) -> list[Table]:
    """The tables of one page: figures that several of them read are asked once."""
    token = _shared.set({})
    try:
        return [build_table(name, scope) for name in names]
    finally:
        _shared.reset(token)
