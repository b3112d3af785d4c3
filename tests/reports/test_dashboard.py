"""Staff dashboards at /reports/ (issue 11, item 5): each figure on a small known world, the filters, bad
input, the CSVs, the coordinator's limit to their networks, two-factor, and queries that do not grow."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mentoring.management.commands.run_job import job_run
from mentoring.models import Feedback, Meeting, Pairing, Role, SchemeMembership
from messaging import services as messaging_services
from messaging.models import ConversationAccessGrant, ConversationAccessLog
from messaging.services import conversation_open
from reports import selectors
from safeguarding.models import Complaint, Concern
from tests import factories

DAY = datetime.timedelta(days=1)


@pytest.fixture
def known(documents, scheme, network, other_network):
    """London: a listed mentor pairs one mentee (matched 10 days after joining) and is asked by another; a
    mentor and mentee who are not eligible ended a pairing (goals met, matched after 4 days). Scotland (both
    members in Ireland, not eligible): one pairing ended for a conflict, matched after 10 days."""
    now = timezone.now()
    listed = factories.listed_mentor(scheme, network)
    requesting = factories.eligible_mentee(scheme, network)
    factories.MentorshipRequestFactory(scheme=scheme, mentee=requesting, mentor=listed)
    paired = factories.eligible_mentee(scheme, network)
    SchemeMembership.objects.filter(user=paired).update(joined_at=now - 30 * DAY)
    Pairing.objects.create(scheme=scheme, network=network, mentor=listed, mentee=paired, started_at=now - 20 * DAY)

    def member(net, role, days_ago=0, **fields):
        user = factories.UserFactory(**fields)
        factories.MembershipFactory(user=user, scheme=scheme, network=net, role=role, joined_at=now - days_ago * DAY)
        return user

    def ended(net, mentor, mentee, started_days_ago, ended_days_ago, reason):
        Pairing.objects.create(
            scheme=scheme,
            network=net,
            mentor=mentor,
            mentee=mentee,
            status=Pairing.Status.ENDED,
            started_at=now - started_days_ago * DAY,
            ended_at=now - ended_days_ago * DAY,
            end_reason=reason,
        )

    ended(network, member(network, Role.MENTOR), member(network, Role.MENTEE, 100), 96, 5, "goals_met")
    scot_mentor = member(other_network, Role.MENTOR, country="IE")
    ended(other_network, scot_mentor, member(other_network, Role.MENTEE, 60, country="IE"), 50, 2, "conflict")
    return {"now": now, "scheme": scheme, "london": network, "scotland": other_network}


def figures(client, user, **params) -> dict[str, dict]:
    client.force_login(user)
    response = client.get(reverse("reports_dashboard"), params)
    assert response.status_code == 200, response.content[:500]
    return {t.key: dict(t.rows) for t in response.context["tables"]}


def test_staff_see_every_figure_of_the_whole_scheme(client, known, scheme_staff):
    # R-REPORT-1: members by role, network and country; the funnel; pairings; reasons; time to match
    got = figures(client, scheme_staff)
    assert got["members-by-role"] == {"Mentee": 4, "Mentor": 3}
    assert got["members-by-network"] == {"London": 5, "Scotland": 2}
    assert got["members-by-country"] == {"United Kingdom": 5, "Ireland": 2}
    assert list(got["funnel"].values()) == [7, 3, 2, 2]
    assert got["pairings"] == {"Active (started in the range)": 1, "Ended (in the range)": 2}
    reasons = got["ended-by-reason"]
    assert reasons["Goals met"] == 1 and reasons["Conflict of interest"] == 1 and sum(reasons.values()) == 2
    assert got["days-to-match"] == {"Median days to a match": 10.0, "Pairings counted": 3}
    assert got["safeguarding"] == {
        "Open safeguarding concerns": 0,
        "Open complaints": 0,
        "Confidential reads of conversations": 0,
    }


def test_meetings_feedback_training_and_active_pairings_over_time(client, known, scheme_staff, coordinator):
    # R-REPORT-1: meetings per pairing, mean feedback, training compliance, active pairings month by month
    active = Pairing.objects.get(status=Pairing.Status.ACTIVE)
    Meeting.objects.create(
        pairing=active,
        proposed_by=active.mentor,
        starts_at=known["now"] - 3 * DAY,
        duration_minutes=60,
        status=Meeting.Status.HELD,
    )
    Meeting.objects.create(
        pairing=active, proposed_by=active.mentor, starts_at=known["now"] + 3 * DAY, duration_minutes=60
    )  # proposed, not held: not counted
    for member, rating in ((active.mentor, 4), (active.mentee, 2)):
        Feedback.objects.create(pairing=active, member=member, stage=Feedback.Stage.MIDPOINT, rating=rating)
    got = figures(client, scheme_staff)
    assert got["meetings-feedback"] == {
        "Meetings held per pairing": round(1 / 3, 2),  # one held meeting over three pairings
        "Feedback answers": 2,
        "Mean feedback (1 to 5)": 3.0,
        "Feedback rated 2 or less": 1,
    }
    # Of the three mentors only the listed one has current training (the factories' others have none).
    assert got["training"]["Mentors"] == 3
    assert set(got["training"].values()) == {3, 1}
    months = got["active-over-time"]
    assert len(months) == 12
    this_month = timezone.localdate().strftime("%B %Y")
    assert months[this_month] == 1  # only the active pairing is active at the end of this month so far
    month_end = timezone.localdate().replace(day=1) - DAY
    after = timezone.make_aware(datetime.datetime.combine(month_end + DAY, datetime.time.min))
    running = [p for p in Pairing.objects.all() if p.started_at < after and (p.ended_at is None or p.ended_at >= after)]
    assert months[month_end.strftime("%B %Y")] == len(running)
    # Coordinators see the same figures for their networks, never DBS compliance or notices.
    mine = figures(client, coordinator)
    assert mine["meetings-feedback"]["Feedback answers"] == 2
    assert "dbs" not in mine and "notices" not in mine
    assert client.get(reverse("reports_csv", args=["dbs"])).status_code == 404


def test_dbs_compliance_and_notices_are_counts_for_staff(client, known, scheme_staff, dbs_scheme, network):
    # R-REPORT-1, R-SAFE-3: DBS compliance as counts only; notices sent by kind
    cleared = factories.listed_mentor(dbs_scheme, network)
    factories.DBSCheckFactory(user=cleared)
    factories.listed_mentor(dbs_scheme, network)  # no check
    messaging_services.notify(cleared, "dbs_updated", body="Your DBS check is recorded.")
    got = figures(client, scheme_staff)
    assert got["dbs"] == {"Mentors in schemes that ask for a DBS check": 2, "With a current cleared check": 1}
    assert got["notices"]["Dbs updated"] >= 1
    html = client.get(reverse("reports_dashboard")).content.decode()
    assert cleared.email not in html and cleared.last_name not in html


def test_a_coordinator_sees_only_their_networks_numbers(client, known, coordinator):
    # R-COORD-2, R-REPORT-1: the same dashboard, limited to the networks they coordinate (London)
    got = figures(client, coordinator)
    assert got["members-by-role"] == {"Mentee": 3, "Mentor": 2}
    assert got["members-by-network"] == {"London": 5}
    assert got["members-by-country"] == {"United Kingdom": 5}
    assert list(got["funnel"].values()) == [5, 3, 2, 2]
    assert got["ended-by-reason"]["Conflict of interest"] == 0
    assert got["days-to-match"]["Median days to a match"] == 7.0
    assert "safeguarding" not in got  # scheme-wide counts are staff's alone


def test_the_counts_of_concerns_complaints_and_confidential_reads(client, known, scheme_staff, mentee, mentor):
    # R-REPORT-1: open concerns and complaints as counts only
    for status in (Concern.Status.NEW, Concern.Status.CLOSED):
        Concern.objects.create(
            reporter=mentee, person=mentor, status=status, what_happened="x", immediate_risk=False, outcome="Done."
        )
    Complaint.objects.create(complainant=mentee, about=Complaint.About.SERVICE, text="Slow.")
    Complaint.objects.create(
        complainant=mentee, about=Complaint.About.SERVICE, status=Complaint.Status.RESOLVED, outcome="Done."
    )
    got = figures(client, scheme_staff)["safeguarding"]
    assert got["Open safeguarding concerns"] == 1 and got["Open complaints"] == 1


def test_confidential_reads_are_counted_since_the_start_date(client, known, scheme_staff):
    # R-REPORT-1 (issue 11: confidential reads), a count only
    pairing = Pairing.objects.get(status=Pairing.Status.ACTIVE)
    conversation = conversation_open(pairing=pairing, members=[pairing.mentor, pairing.mentee])
    complaint = Complaint.objects.create(
        complainant=pairing.mentee, about=Complaint.About.PAIRING, pairing=pairing, text="x"
    )
    now = known["now"]
    grant = ConversationAccessGrant.objects.create(
        reader=scheme_staff,
        conversation=conversation,
        complaint=complaint,
        reason="Complaint.",
        created_at=now - datetime.timedelta(hours=2),
        expires_at=now + datetime.timedelta(hours=20),
    )
    for days_ago in (10, 0):
        ConversationAccessLog.objects.create(
            reader=scheme_staff, conversation=conversation, grant=grant, reason="Complaint.", at=now - days_ago * DAY
        )
    assert figures(client, scheme_staff)["safeguarding"]["Confidential reads of conversations"] == 2
    since = figures(client, scheme_staff, date_from=(timezone.localdate() - 3 * DAY).isoformat())["safeguarding"]
    assert since["Confidential reads of conversations since the start date"] == 1


def test_filters_by_network_country_scheme_and_dates(client, known, scheme_staff):
    # R-REPORT-2: filter by scheme, network, country and date range
    got = figures(client, scheme_staff, network=known["scotland"].pk)
    assert got["members-by-network"] == {"Scotland": 2}
    assert figures(client, scheme_staff, country="ie")["members-by-role"] == {"Mentee": 1, "Mentor": 1}
    assert figures(client, scheme_staff, scheme="career")["members-by-role"] == {"Mentee": 4, "Mentor": 3}
    assert figures(client, scheme_staff, scheme=str(known["scheme"].pk))["funnel"]["Registered"] == 7
    other = factories.SchemeFactory(slug="other")
    assert figures(client, scheme_staff, scheme=other.slug)["members-by-role"] == {"Mentee": 0, "Mentor": 0}
    today = timezone.localdate()
    recent = figures(client, scheme_staff, date_from=(today - 3 * DAY).isoformat())
    assert recent["ended-by-reason"]["Conflict of interest"] == 1 and recent["ended-by-reason"]["Goals met"] == 0
    # Joined within the last 40 days: all but the two who joined 60 and 100 days ago.
    window = figures(client, scheme_staff, date_from=(today - 40 * DAY).isoformat(), date_to=today.isoformat())
    assert window["funnel"]["Registered"] == 5
    past = figures(client, scheme_staff, date_to=(today - 200 * DAY).isoformat())
    assert past["funnel"]["Registered"] == 0 and sum(past["ended-by-reason"].values()) == 0


def test_filtered_to_one_country_the_country_table_is_that_countrys_row(client, known, scheme_staff):
    # R-REPORT-2: the row is the funnel's registered members of that country (counted once, issue 11 item 6)
    ireland = figures(client, scheme_staff, country="IE")
    assert ireland["members-by-country"] == {"Ireland": 2} == {"Ireland": ireland["funnel"]["Registered"]}
    assert figures(client, scheme_staff, country="FR")["members-by-country"] == {}


def test_the_eligible_count_follows_each_change_and_each_passing_date(client, known, scheme_staff):
    # R-REPORT-1, issue 11 item 6: counted from the engine's table, kept in line by saves and the 15-minute job
    assert figures(client, scheme_staff)["funnel"]["Eligible"] == 3
    member = SchemeMembership.objects.filter(eligible_row__isnull=False).order_by("pk").first().user
    member.membership_status = "lapsed"
    member.save()
    assert figures(client, scheme_staff)["funnel"]["Eligible"] == 2  # at once: the save judged them again
    member.membership_status = "active"
    member.save()
    assert figures(client, scheme_staff)["funnel"]["Eligible"] == 3
    # A membership that expires as the date passes is no save: the scheduled job catches it.
    User.objects.filter(pk=member.pk).update(membership_expires_on=timezone.localdate() - DAY)
    assert figures(client, scheme_staff)["funnel"]["Eligible"] == 3
    job_run("refresh-eligible-memberships")
    assert figures(client, scheme_staff)["funnel"]["Eligible"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"network": "999999"},
        {"network": "London"},
        {"scheme": "no-such-scheme"},
        {"country": "XX"},
        {"date_from": "2026-13-45"},
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
    ],
)
@pytest.mark.parametrize("url", [reverse("reports_dashboard"), reverse("reports_csv", args=["funnel"])])
def test_bad_filters_give_a_clear_400_never_a_500(client, known, scheme_staff, params, url):
    # R-REPORT-2: bad input gives a form error and a 400
    client.force_login(scheme_staff)
    response = client.get(url, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    form = response.context["form"]
    assert form.errors
    assert b"could not be used" in response.content


def test_a_date_range_that_ends_before_it_starts_says_so(client, known, scheme_staff):
    client.force_login(scheme_staff)
    response = client.get(reverse("reports_dashboard"), {"date_from": "2026-05-01", "date_to": "2026-04-01"})
    assert response.status_code == 400 and b"The date range ends before it starts." in response.content


def test_a_coordinator_filtering_by_another_network_gets_404(client, known, coordinator):
    # R-COORD-2: a coordinator acts only within their networks (404, not a form error)
    client.force_login(coordinator)
    for url in [reverse("reports_dashboard"), reverse("reports_csv", args=["members-by-role"])]:
        assert client.get(url, {"network": known["scotland"].pk}).status_code == 404
        assert client.get(url, {"network": known["london"].pk}).status_code == 200


def test_a_csv_of_each_table_with_the_same_filters(client, known, scheme_staff):
    # R-REPORT-2: export CSV
    client.force_login(scheme_staff)
    for name in selectors.table_names(staff=True):
        response = client.get(reverse("reports_csv", args=[name]))
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert name in response["Content-Disposition"]
    response = client.get(reverse("reports_csv", args=["members-by-network"]), {"network": known["london"].pk})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [["Local Network", "Members"], ["London", "5"]]
    assert client.get(reverse("reports_csv", args=["no-such-table"])).status_code == 404


def test_a_coordinators_csv_is_limited_and_has_no_scheme_wide_counts(client, known, coordinator):
    client.force_login(coordinator)
    response = client.get(reverse("reports_csv", args=["members-by-network"]))
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [["Local Network", "Members"], ["London", "5"]]
    assert client.get(reverse("reports_csv", args=["safeguarding"])).status_code == 404


def test_a_csv_label_never_starts_a_formula(client, known, scheme_staff):
    known["london"].__class__.objects.filter(pk=known["london"].pk).update(name="=HYPERLINK(1)")
    client.force_login(scheme_staff)
    response = client.get(reverse("reports_csv", args=["members-by-network"]))
    assert "'=HYPERLINK(1)" in response.content.decode()


def test_the_page_draws_two_charts_from_a_json_block_with_vendored_chartjs(client, known, scheme_staff):
    client.force_login(scheme_staff)
    response = client.get(reverse("reports_dashboard"))
    html = response.content.decode()
    assert '<script id="report-charts" type="application/json">' in html
    assert 'id="chart-members-by-role"' in html and 'id="chart-ended-by-reason"' in html
    assert "/static/vendor/chart-4.6.1.umd.min." in html and "/static/js/reports." in html
    assert "cdn" not in html.lower()
    assert 'id="table-members-by-role"' in html and 'id="table-ended-by-reason"' in html


def test_the_nav_links_reports_for_staff_and_coordinators_only(client, known, scheme_staff, coordinator, mentor):
    for user, shown in [(scheme_staff, True), (coordinator, True), (mentor, False)]:
        client.force_login(user)
        html = client.get(reverse("mentoring_home")).content.decode()
        assert (reverse("reports_dashboard") in html) is shown


@pytest.mark.parametrize("url", [reverse("reports_dashboard"), reverse("reports_csv", args=["members-by-role"])])
@pytest.mark.parametrize("group", ["GROUP_STAFF", "GROUP_COORDINATORS"])
def test_two_factor_is_required_as_for_the_admin(client, known, settings, url, group):
    # DESIGN (Security): TOTP two-factor for staff and coordinators, like the admin
    settings.MFA_REQUIRED_FOR_STAFF = True
    unprotected = factories.UserFactory(is_staff=True)
    unprotected.groups.add(Group.objects.get(name=getattr(settings, group)))
    known["london"].coordinators.add(unprotected)
    client.force_login(unprotected)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("url", [reverse("reports_dashboard"), reverse("reports_csv", args=["members-by-role"])])
def test_members_get_404_and_the_signed_out_the_sign_in_page(client, known, mentor, mentee, url):
    for user in (mentor, mentee):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def _grow(known, n: int) -> None:
    """`n` more members (half mentors) and `n` more pairings, half of them ended, in both networks."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        User(email=f"bulk{start + i}@example.org", country="GB" if i % 3 else "FR") for i in range(2 * n)
    )
    nets = [known["london"], known["scotland"]]
    SchemeMembership.objects.bulk_create(
        SchemeMembership(
            user=u,
            scheme=known["scheme"],
            network=nets[i % 2],
            role=Role.MENTOR if i % 2 else Role.MENTEE,
            status=SchemeMembership.Status.ACTIVE,
        )
        for i, u in enumerate(users)
    )
    Pairing.objects.bulk_create(
        Pairing(
            scheme=known["scheme"],
            network=nets[i % 2],
            mentor=users[2 * i + 1],
            mentee=users[2 * i],
            status=Pairing.Status.ENDED if i % 2 else Pairing.Status.ACTIVE,
            ended_at=known["now"] if i % 2 else None,
            end_reason="other" if i % 2 else "",
        )
        for i in range(n)
    )


@pytest.mark.parametrize("who", ["scheme_staff", "coordinator"])
def test_the_dashboard_asks_as_many_queries_with_10_rows_as_with_200(client, known, request, who):
    # R-REPORT-1, issue 11 item 6: the same number of queries as rows grow
    client.force_login(request.getfixturevalue(who))
    url = reverse("reports_dashboard")
    client.get(url)  # warm the per-process caches (documents, names)
    _grow(known, 10)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"date_from": "2000-01-01"}).status_code == 200
    _grow(known, 190)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"date_from": "2000-01-01"})
    assert response.status_code == 200
    assert len(small) == len(large), (len(small), len(large))
    assert len(large) <= 30
    print(f"{who}: queries_small={len(small)} queries_large={len(large)}")
