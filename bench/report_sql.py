# ruff: noqa: S608  every statement is built from this file's fixed fragments; values go in as parameters
"""The staff dashboard's figures computed with hand-written SQL (PostgreSQL), for bench/reports.py's floor.

`figures(scope)` returns what reports.selectors builds for staff, table by table, as {key: [[label, value],
...]}, from one SQL statement per table: the bench times it beside the page and checks the two agree. The
eligibility rules are written out in SQL here from the same cutoffs the engine computes (Criteria), judged on
each member's own date as the engine does: the point is to know how fast the database can answer, not to
replace the engine.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import connection
from django.utils import timezone
from django_countries import countries

from accounts.models import local_today
from mentoring.models import Pairing, Role, Scheme
from safeguarding.eligibility import Criteria, current_documents
from safeguarding.models import Complaint, Concern, DBSCheck, TrainingKind


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def member_where(scope) -> tuple[str, list]:
    """Memberships m (with their member u) in scope: scheme, network, country, joined within the dates."""
    where, params = ["TRUE"], []
    if scope.scheme is not None:
        where.append("m.scheme_id = %s")
        params.append(scope.scheme.pk)
    if scope.network_id is not None:
        where.append("m.network_id = %s")
        params.append(scope.network_id)
    if scope.country:
        where.append("u.country = %s")
        params.append(scope.country)
    if scope.since is not None:
        where.append("m.joined_at >= %s")
        params.append(scope.since)
    if scope.before is not None:
        where.append("m.joined_at < %s")
        params.append(scope.before)
    return " AND ".join(where), params


def pairing_where(scope) -> tuple[str, list]:
    """Pairings p (with their mentee e) in scope: scheme, network, the mentee's country."""
    where, params = ["TRUE"], []
    if scope.scheme is not None:
        where.append("p.scheme_id = %s")
        params.append(scope.scheme.pk)
    if scope.network_id is not None:
        where.append("p.network_id = %s")
        params.append(scope.network_id)
    if scope.country:
        where.append("e.country = %s")
        params.append(scope.country)
    return " AND ".join(where), params


def in_range(scope, column: str) -> tuple[str, list]:
    where, params = ["TRUE"], []
    if scope.since is not None:
        where.append(f"{column} >= %s")
        params.append(scope.since)
    if scope.before is not None:
        where.append(f"{column} < %s")
        params.append(scope.before)
    return " AND ".join(where), params


MEMBERS = "mentoring_schememembership m JOIN accounts_user u ON u.id = m.user_id"
PAIRINGS = "mentoring_pairing p JOIN accounts_user e ON e.id = p.mentee_id"


def eligible_sql(scope) -> tuple[str, list]:
    """SQL on a membership row m of member u: eligible in its scheme and role, on the member's own date."""
    schemes = [scope.scheme] if scope.scheme is not None else list(Scheme.objects.order_by("pk"))
    documents = current_documents()
    now = timezone.now()
    zones_by_date = defaultdict(list)
    for (zone,) in rows("SELECT DISTINCT time_zone FROM accounts_user"):
        zones_by_date[local_today(zone, at=now)].append(zone)
    clauses, params = [], []
    for day, zones in zones_by_date.items():
        criteria = Criteria.on(day, schemes[0], Role.MENTOR, documents=documents)
        parts = [
            "u.time_zone = ANY(%s)",
            "m.status IN ('pending', 'active')",
            "u.date_of_birth <= %s",
            "u.membership_number <> ''",
            "u.membership_status = 'active'",
            "(u.membership_expires_on IS NULL OR u.membership_expires_on >= %s)",
        ]
        params += [zones, criteria.adult_born_by, day]
        for version in documents:
            parts.append(
                "EXISTS (SELECT 1 FROM mentoring_termsacceptance a WHERE a.user_id = u.id AND a.version_id = %s)"
            )
            params.append(version.pk)
        mentor = []
        for kind in TrainingKind:
            mentor.append(
                "EXISTS (SELECT 1 FROM safeguarding_trainingrecord t WHERE t.user_id = u.id AND t.kind = %s"
                " AND (t.expires_on IS NULL OR t.expires_on >= %s))"
            )
            params += [kind.value, day]
        dbs = []
        for scheme in schemes:
            if scheme.dbs_required:
                since = Criteria.on(day, scheme, Role.MENTOR, documents=documents).dbs_cleared_since
                dbs.append(
                    "(m.scheme_id = %s AND NOT EXISTS (SELECT 1 FROM safeguarding_dbscheck d WHERE d.user_id = u.id"
                    " AND d.status = 'cleared' AND d.cleared_on >= %s))"
                )
                params += [scheme.pk, since]
        mentor_ok = " AND ".join(mentor) + ("".join(f" AND NOT {c}" for c in dbs))
        parts.append(f"(m.role = 'mentee' OR ({mentor_ok}))")
        clauses.append("(" + " AND ".join(parts) + ")")
    return "(" + (" OR ".join(clauses) or "FALSE") + ")", params


def figures(scope) -> dict[str, list[list]]:
    out = {}
    mw, mp = member_where(scope)

    by_role = dict(rows(f"SELECT m.role, COUNT(DISTINCT m.user_id) FROM {MEMBERS} WHERE {mw} GROUP BY m.role", mp))
    out["members-by-role"] = [[label, by_role.get(value, 0)] for value, label in Role.choices]
    out["members-by-network"] = [
        list(r)
        for r in rows(
            f"SELECT n.name, COUNT(DISTINCT m.user_id) FROM {MEMBERS} JOIN mentoring_localnetwork n"
            f" ON n.id = m.network_id WHERE {mw} GROUP BY n.name ORDER BY n.name",
            mp,
        )
    ]
    by_country = rows(f"SELECT u.country, COUNT(DISTINCT m.user_id) FROM {MEMBERS} WHERE {mw} GROUP BY u.country", mp)
    out["members-by-country"] = [
        list(r) for r in sorted(((countries.name(c) or "Not given") if c else "Not given", n) for c, n in by_country)
    ]

    eligible, ep = eligible_sql(scope)
    (registered, n_eligible, listed, paired) = rows(
        f"""SELECT COUNT(DISTINCT m.user_id),
            COUNT(DISTINCT m.user_id) FILTER (WHERE {eligible}),
            COUNT(DISTINCT m.user_id) FILTER (WHERE
                (m.role = 'mentor' AND EXISTS (SELECT 1 FROM matching_mentorlisting l
                    WHERE l.mentor_id = m.user_id AND l.scheme_id = m.scheme_id))
                OR (m.role = 'mentee' AND EXISTS (SELECT 1 FROM matching_mentorshiprequest r
                    WHERE r.mentee_id = m.user_id AND r.scheme_id = m.scheme_id AND r.status = 'pending'))),
            COUNT(DISTINCT m.user_id) FILTER (WHERE
                (m.role = 'mentor' AND EXISTS (SELECT 1 FROM mentoring_pairing a
                    WHERE a.mentor_id = m.user_id AND a.scheme_id = m.scheme_id AND a.status = 'active'))
                OR (m.role = 'mentee' AND EXISTS (SELECT 1 FROM mentoring_pairing a
                    WHERE a.mentee_id = m.user_id AND a.scheme_id = m.scheme_id AND a.status = 'active')))
        FROM {MEMBERS} WHERE {mw}""",
        ep + mp,
    )[0]
    out["funnel"] = [
        ["Registered", registered],
        ["Eligible", n_eligible],
        ["Listed (mentors) or requesting (mentees)", listed],
        ["Paired", paired],
    ]

    pw, pp = pairing_where(scope)
    started, sp = in_range(scope, "p.started_at")
    ended, np_ = in_range(scope, "p.ended_at")
    active_n, ended_n = rows(
        f"""SELECT COUNT(*) FILTER (WHERE p.status = 'active' AND {started}),
                   COUNT(*) FILTER (WHERE p.status = 'ended' AND {ended})
            FROM {PAIRINGS} WHERE {pw}""",
        sp + np_ + pp,
    )[0]
    out["pairings"] = [["Active (started in the range)", active_n], ["Ended (in the range)", ended_n]]

    reasons = dict(
        rows(
            f"SELECT p.end_reason, COUNT(*) FROM {PAIRINGS} WHERE {pw} AND p.status = 'ended' AND {ended}"
            " GROUP BY p.end_reason",
            pp + np_,
        )
    )
    out["ended-by-reason"] = [[label, reasons.get(value, 0)] for value, label in Pairing.EndReason.choices]
    if reasons.get(""):
        out["ended-by-reason"].append(["Not given", reasons[""]])

    median, counted = rows(
        f"""SELECT percentile_cont(0.5) WITHIN GROUP (
                       ORDER BY EXTRACT(EPOCH FROM (p.started_at - j.joined_at)) / 86400),
                   COUNT(*)
            FROM {PAIRINGS} JOIN mentoring_schememembership j
              ON j.user_id = p.mentee_id AND j.scheme_id = p.scheme_id AND j.role = 'mentee'
            WHERE {pw} AND {started} AND p.started_at >= j.joined_at""",
        pp + sp,
    )[0]
    out["days-to-match"] = [
        ["Median days to a match", round(float(median), 1) if counted else "No pairings"],
        ["Pairings counted", counted],
    ]

    month_ends = _month_ends(scope)
    columns = ", ".join(
        "COUNT(*) FILTER (WHERE p.started_at < %s AND (p.ended_at IS NULL OR p.ended_at >= %s))" for _ in month_ends
    )
    after = [_after(end) for _, end in month_ends]
    counts = rows(f"SELECT {columns} FROM {PAIRINGS} WHERE {pw}", [a for a in after for _ in (0, 1)] + pp)[0]
    out["active-over-time"] = [[start.strftime("%B %Y"), n] for (start, _), n in zip(month_ends, counts, strict=True)]

    held_range, hp = in_range(scope, "mt.starts_at")
    fb_range, fp = in_range(scope, "f.created_at")
    # Every meeting and answer has a pairing: with every pairing in scope, no join is needed to count them.
    if pp:
        of_meetings, of_feedback = f"JOIN {PAIRINGS} ON p.id = mt.pairing_id", f"JOIN {PAIRINGS} ON p.id = f.pairing_id"
    else:
        of_meetings = of_feedback = ""
    n_pairings, held = rows(
        f"""SELECT (SELECT COUNT(*) FROM {PAIRINGS} WHERE {pw}),
                   (SELECT COUNT(*) FROM mentoring_meeting mt {of_meetings}
                    WHERE {pw} AND mt.status = 'held' AND {held_range})""",
        pp + pp + hp,
    )[0]
    mean, answers, low = rows(
        f"""SELECT AVG(f.rating), COUNT(*), COUNT(*) FILTER (WHERE f.rating <= 2)
            FROM mentoring_feedback f {of_feedback} WHERE {pw} AND {fb_range}""",
        pp + fp,
    )[0]
    out["meetings-feedback"] = [
        ["Meetings held per pairing", round(held / n_pairings, 2) if n_pairings else "No pairings"],
        ["Feedback answers", answers],
        ["Mean feedback (1 to 5)", round(float(mean), 2) if mean is not None else "No answers"],
        ["Feedback rated 2 or less", low],
    ]

    today = timezone.localdate()
    current = "EXISTS (SELECT 1 FROM safeguarding_trainingrecord t WHERE t.user_id = m.user_id AND t.kind = %s" + (
        " AND (t.expires_on IS NULL OR t.expires_on >= %s))"
    )
    training = rows(
        f"""SELECT COUNT(DISTINCT m.user_id),
            {", ".join(f"COUNT(DISTINCT m.user_id) FILTER (WHERE {current})" for _ in TrainingKind)}
            FROM {MEMBERS} WHERE {mw} AND m.role = 'mentor'""",
        [v for kind in TrainingKind for v in (kind.value, today)] + mp,
    )[0]
    out["training"] = [["Mentors", training[0]]] + [
        [f"{kind.label} current", n] for kind, n in zip(TrainingKind, training[1:], strict=True)
    ]

    schemes = [scope.scheme] if scope.scheme is not None else list(Scheme.objects.filter(dbs_required=True))
    mentors = with_check = 0
    for scheme in schemes:
        if not scheme.dbs_required:
            continue
        since = Criteria.on(today, scheme, Role.MENTOR, documents=()).dbs_cleared_since
        a, b = rows(
            f"""SELECT COUNT(DISTINCT m.user_id), COUNT(DISTINCT m.user_id) FILTER (WHERE EXISTS (
                    SELECT 1 FROM safeguarding_dbscheck d WHERE d.user_id = m.user_id AND d.status = %s
                    AND d.cleared_on >= %s))
                FROM {MEMBERS} WHERE {mw} AND m.scheme_id = %s AND m.role = 'mentor'""",
            [DBSCheck.Status.CLEARED.value, since, *mp, scheme.pk],
        )[0]
        mentors += a
        with_check += b
    out["dbs"] = [
        ["Mentors in schemes that ask for a DBS check", mentors],
        ["With a current cleared check", with_check],
    ]

    nr, npr = in_range(scope, "created_at")
    notices = rows(
        f"SELECT kind, COUNT(*) AS n FROM messaging_notification WHERE {nr} GROUP BY kind ORDER BY n DESC, kind", npr
    )
    out["notices"] = [[kind.replace("_", " ").capitalize(), n] for kind, n in notices]

    open_concerns = [s.value for s in Concern.OPEN]
    open_complaints = [Complaint.Status.RECEIVED.value, Complaint.Status.INVESTIGATING.value]
    reads_since = "at >= %s" if scope.since is not None else "TRUE"
    concerns, complaints, reads = rows(
        f"""SELECT (SELECT COUNT(*) FROM safeguarding_concern WHERE status = ANY(%s)),
                   (SELECT COUNT(*) FROM safeguarding_complaint WHERE status = ANY(%s)),
                   (SELECT COUNT(*) FROM messaging_conversationaccesslog WHERE {reads_since})""",
        [open_concerns, open_complaints] + ([scope.since] if scope.since is not None else []),
    )[0]
    out["safeguarding"] = [
        ["Open safeguarding concerns", concerns],
        ["Open complaints", complaints],
        ["Confidential reads of conversations" + (" since the start date" if scope.since else ""), reads],
    ]
    return out


def _month_ends(scope) -> list[tuple[datetime.date, datetime.date]]:
    """The months the dashboard counts (reports.selectors.active_over_time's own arithmetic)."""
    today = timezone.localdate()
    last = scope.date_to or today
    first = scope.date_from or (last.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    month_ends, month = [], first.replace(day=1)
    while month <= last and len(month_ends) < 36:
        following = (month + datetime.timedelta(days=32)).replace(day=1)
        month_ends.append((month, min(following - datetime.timedelta(days=1), last)))
        month = following
    return month_ends


def _after(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
