"""Every free text a member writes, filled with the payloads of xss_payloads.txt, is escaped wherever it is shown:
member pages, the admin, notifications and notification emails (issue 6, 9).

Two checks on every page: no payload that HTML would read as markup appears raw
while its escaped form does, and the page's own markup holds nothing a payload
could have planted (an on* attribute, a javascript: URL, an inline script, an
iframe...). Payloads are packed many to a field, so a few dozen page renders
cover them all. Plain-text emails are not HTML: they are checked to be sent as
text/plain (issue 6, 4 wants them unescaped); any HTML part is checked like a page.
"""

from __future__ import annotations

import datetime
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.models import User
from matching.models import ConflictDeclaration, MenteeProfile, MentorshipRequest, ProfileReport
from mentoring.models import (
    Agreement,
    AgreementVersion,
    CPDEntry,
    EndOfPairing,
    Feedback,
    FeedbackRequest,
    GoalProgress,
    Meeting,
    Pairing,
    PairingGoal,
    SessionNote,
)
from messaging.models import ConversationAccessGrant, Message, Notification
from messaging.services import emails_send_pending, notify
from safeguarding.models import Complaint, Concern, ConcernNote
from tests import factories
from tests.security.world import model_named

PAYLOADS = [
    line
    for line in (Path(__file__).with_name("xss_payloads.txt")).read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("# ")
]
ALL = " ".join(PAYLOADS)
MARKUP = set("<>&\"'")


def packed(limit: int) -> list[str]:
    """The payloads packed into values of at most `limit` characters."""
    values, current = [], ""
    for payload in PAYLOADS:
        if current and len(current) + 1 + len(payload) > limit:
            values.append(current)
            current = ""
        current = f"{current} {payload}" if current else payload
    return [*values, current]


def test_the_corpus_has_a_hundred_distinct_single_line_payloads():
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS)
    assert all(len(p) <= 120 for p in PAYLOADS), "a payload must fit the shortest field (a role title)"
    controls = [p for p in PAYLOADS if any(unicodedata.category(c) == "Cc" for c in p)]
    assert not controls
    assert sum(bool(MARKUP & set(p)) for p in PAYLOADS) >= 90


class MarkupAudit(HTMLParser):
    """The page's real markup: anything here that could run script is a finding."""

    URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "background", "poster", "srcdoc"}
    NEVER = {"iframe", "object", "embed", "base", "frame", "frameset", "portal", "applet", "isindex", "keygen"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []
        self.inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.NEVER:
            self.findings.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            squeezed = "".join(value.split()).lower()
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}=...>")
            if name in self.URL_ATTRIBUTES and squeezed.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.findings.append(f"<{tag} {name}={value[:40]}>")
            if name == "style" and ("expression(" in squeezed or "javascript:" in squeezed):
                self.findings.append(f"<{tag} style={value[:40]}>")
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh":
            self.findings.append("<meta http-equiv=refresh>")
        if tag == "link" and not (attributes.get("href") or "").startswith("/static/"):
            self.findings.append(f"<link href={attributes.get('href')}>")
        if tag == "script":
            src = attributes.get("src")
            if src is not None and (not src.startswith("/") or src.startswith("//")):
                self.findings.append(f"<script src={src}>")
            self.inline_script = src is None and attributes.get("type") != "application/json"
        if tag == "style":
            self.findings.append("<style>")

    def handle_data(self, data):
        if self.inline_script and data.strip():
            self.findings.append(f"inline script {data.strip()[:40]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self.inline_script = False


def problems(html: str, expected=()) -> list[str]:
    found = [f"raw {p!r}" for p in PAYLOADS if MARKUP & set(p) and p in html]
    found += [f"missing {p!r}" for p in expected if escape(p) not in html]
    audit = MarkupAudit()
    audit.feed(html)
    return found + audit.findings


@pytest.fixture
def stored(world):
    """The payloads in every field a member writes, through a set of members, requests and a pairing."""
    network = world.network_a
    scheme = type(world.scheme).objects.get(pk=world.scheme.pk)  # a copy: the world's objects stay as built
    scheme.shares_contact_details = True  # so the pairing page shows the partner's full name and email
    scheme.save(update_fields=["shares_contact_details"])
    names = packed(120)
    mentors = []
    for value in names:
        mentor = factories.listed_mentor(scheme, network, role_title=value, work_history=ALL)
        User.objects.filter(pk=mentor.pk).update(first_name=value, last_name=value)
        mentor.refresh_from_db()
        mentors.append(mentor)
    User.objects.filter(pk=world.mentee_a.pk).update(first_name=names[0], last_name=names[-1])
    mentee = User.objects.get(pk=world.mentee_a.pk)
    MenteeProfile.objects.filter(user=mentee).update(goals=ALL)
    now = timezone.now()
    pending = MentorshipRequest.objects.create(
        scheme=scheme, mentee=mentee, mentor=mentors[0], message=ALL, expires_at=now + datetime.timedelta(days=9)
    )
    ConflictDeclaration.objects.create(request=pending, declared_by=mentee, kind="other", details=ALL)
    declined = MentorshipRequest.objects.create(
        scheme=scheme,
        mentee=mentee,
        mentor=mentors[1],
        message=ALL,
        status="declined",
        decline_reason=ALL,
        expires_at=now,
    )
    report = ProfileReport.objects.create(profile=mentors[0].mentor_profile, reporter=mentee, reason=ALL)
    pairing = Pairing.objects.create(
        scheme=scheme, mentor=mentors[2], mentee=mentee, network=network, status="ended", end_reason="differences"
    )
    rematch = model_named("RematchRequest").objects.create(mentee=mentee, pairing=pairing, note=ALL)
    # Issue 7: the End of Pairing comments and the feedback comments.
    end = EndOfPairing.objects.create(pairing=pairing, ended_by=mentee, reason="differences", comments=ALL)
    FeedbackRequest.objects.create(pairing=pairing, member=mentee, stage="end")
    feedback = Feedback.objects.create(pairing=pairing, member=mentee, stage="end", rating=2, comments=ALL)
    complaint = Complaint.objects.create(
        complainant=mentee, about="pairing", pairing=pairing, text=ALL, status="resolved", outcome=ALL
    )
    Notification.objects.filter(user=mentee).delete()
    for body in packed(300):
        notify(mentee, "request_received", pending, body=body)
    return {
        "mentors": mentors,
        "mentee": mentee,
        "pending": pending,
        "declined": declined,
        "report": report,
        "pairing": pairing,
        "rematch": rematch,
        "end": end,
        "feedback": feedback,
        "complaint": complaint,
    }


def render(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


def test_member_pages_escape_what_members_wrote(client, world, stored):
    mentee, mentors = stored["mentee"], stored["mentors"]
    found = {}
    listing = ""
    for page in (1, 2, 3):
        html = render(client, mentee, f"{reverse('mentor_list')}?page={page}")
        found[f"search page {page}"] = problems(html)
        listing += html
    missing = [p for p in PAYLOADS if escape(p) not in listing]
    assert not missing, f"search pages do not show (escaped) {missing[:5]}..."
    pages = [
        (mentee, reverse("mentor_detail", args=[mentors[0].mentor_profile.pk]), PAYLOADS),  # work history
        (mentors[0], reverse("request_detail", args=[stored["pending"].pk]), PAYLOADS),  # message and goals
        (mentee, reverse("request_detail", args=[stored["declined"].pk]), PAYLOADS),  # decline reason
        (mentee, reverse("mentoring_home"), ()),
        (mentors[0], reverse("mentoring_home"), ()),
        (mentee, reverse("pairing_detail", args=[stored["pairing"].pk]), ()),
        (mentee, reverse("pairing_end", args=[stored["pairing"].pk]), ()),
        (mentee, reverse("pairing_feedback", args=[stored["pairing"].pk, "end"]), ()),
        (mentee, reverse("notification_list"), PAYLOADS),
        (mentee, reverse("account_details"), ()),
        (mentee, reverse("mentee_goals_edit"), PAYLOADS),
        (mentors[0], reverse("mentor_profile_edit"), PAYLOADS),
        (mentee, reverse("request_create", args=[mentors[3].mentor_profile.pk]), ()),
        (mentee, reverse("profile_report", args=[mentors[3].mentor_profile.pk]), ()),
        (mentee, reverse("complaint_detail", args=[stored["complaint"].pk]), PAYLOADS),  # text and outcome
        (mentee, reverse("complaint_list"), ()),
        (mentee, reverse("complaint_new"), ()),  # the people and pairings to choose from
    ]
    for user, url, expected in pages:
        found[url] = problems(render(client, user, url), expected)
    found = {url: p for url, p in found.items() if p}
    assert not found, found


def admin_url(obj, view="change"):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[obj.pk] if view == "change" else [])


def test_admin_pages_escape_what_members_wrote(client, world, stored):
    mentee, mentors = stored["mentee"], stored["mentors"]
    note = Notification.objects.filter(user=mentee).first()
    objects = [
        mentee,
        mentors[0],
        mentors[0].mentor_profile,
        mentee.mentee_profile,
        stored["pending"],
        stored["declined"],
        stored["report"],
        stored["rematch"],
        stored["pairing"],
        stored["end"],
        stored["feedback"],
        stored["complaint"],
        note,
    ]
    found, changelists = {}, ""
    client.force_login(world.superuser)
    for obj in objects:
        for url in (admin_url(obj), admin_url(obj, "changelist")):
            if url in found:
                continue
            html = client.get(url).content.decode()
            found[url] = problems(html)
            changelists += html
    missing = [p for p in PAYLOADS if escape(p) not in changelists]
    assert not missing, f"the admin does not show (escaped) {missing[:5]}..."
    found = {url: p for url, p in found.items() if p}
    assert not found, found


def test_notification_emails_are_plain_text_or_escaped_html(world, stored):
    mail.outbox.clear()
    assert emails_send_pending() > 0
    assert mail.outbox
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.content_subtype == "plain"
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                assert not problems(content), problems(content)


REFLECTED = [p for p in PAYLOADS if MARKUP & set(p)]


def test_payloads_in_the_address_are_not_reflected_raw(client, world):
    # Query strings and paths end up in pagination links, hidden "next" fields and error pages.
    client.force_login(world.mentee_a)
    found = {}
    for batch in (REFLECTED[i : i + 5] for i in range(0, 30, 5)):
        query = dict(zip(("country", "sector", "page", "other", "language"), batch, strict=True))
        for url, params in (
            (reverse("mentor_list"), {**query, "scheme": "career"}),
            (reverse("notification_list"), query),
            (f"/no-such-page/{batch[0]}/", {}),
            (reverse("account_login"), {"next": batch[1]}),
        ):
            html = client.get(url, params).content.decode()
            if problems(html):
                found[url] = problems(html)
    assert not found, found


def test_agreement_goals_notes_and_cpd_escape_what_members_wrote(client, world):
    # Issue 7, agreement part: every free text of the agreement, goals, progress, session notes and CPD log.
    mentor, mentee = world.dual2, world.dual
    pairing = world.pairing_a_dual
    today = timezone.localdate()
    agreement = Agreement.objects.create(pairing=pairing)
    short = packed(200)
    for number, value in enumerate(short, start=1):
        version = AgreementVersion.objects.create(
            agreement=agreement,
            number=number,
            goals=ALL,
            roles=ALL,
            boundaries=ALL,
            frequency=value,
            session_timing=value,
            session_duration_minutes=60,
            period_start=today,
            period_end=today + datetime.timedelta(days=10),
            review_date=today,
            confidentiality=ALL,
            confidentiality_exceptions=ALL,
            drafted_by=mentor,
        )
    goal = PairingGoal.objects.create(pairing=pairing, text=ALL, created_by=mentee)
    GoalProgress.objects.create(goal=goal, date=today, note=ALL, author=mentor)
    SessionNote.objects.create(pairing=pairing, author=mentor, date=today, text=ALL)
    for value in packed(200):
        CPDEntry.objects.create(member=mentor, date=today, activity=value, hours=1, reflection=ALL)
    found = {}
    versions = "".join(
        render(client, mentee, reverse("agreement_version", args=[pairing.pk, n])) for n in range(1, len(short) + 1)
    )
    found["versions"] = problems(versions, PAYLOADS)
    pages = [
        (mentee, reverse("agreement_detail", args=[pairing.pk]), ()),
        (mentor, reverse("goals_list", args=[pairing.pk]), PAYLOADS),
        (mentor, reverse("session_notes", args=[pairing.pk]), PAYLOADS),
        (mentor, reverse("cpd_log"), PAYLOADS),
    ]
    for user, url, expected in pages:
        found[url] = problems(render(client, user, url), expected)
    found = {url: p for url, p in found.items() if p}
    assert not found, found
    assert version.number == len(short)


def test_meeting_notes_and_links_are_escaped_on_the_pairing_page_and_in_the_admin(client, world):
    # Issue 7, meetings: the note is free text a member writes; a link may carry markup after its host.
    pairing = Pairing.objects.get(pk=world.pairing_a_dual.pk)
    starts = timezone.now() + datetime.timedelta(days=3)
    meetings = [
        Meeting.objects.create(
            pairing=pairing,
            proposed_by=pairing.mentor,
            starts_at=starts + datetime.timedelta(hours=i),
            duration_minutes=60,
            note=value,
            status="accepted" if i % 2 else "proposed",
            video_link=f'https://meet.example.org/{i}/"><script>alert({i})</script>',
        )
        for i, value in enumerate(packed(1000))
    ]
    found = {}
    for user in (pairing.mentor, pairing.mentee):
        url = reverse("pairing_detail", args=[pairing.pk])
        html = render(client, user, url)
        shown = [p for p in PAYLOADS if escape(p) in html]
        found[f"{url} as {user.first_name}"] = problems(html, PAYLOADS if user == pairing.mentee else shown)
    client.force_login(world.superuser)
    for meeting in meetings[:2]:
        for url in (admin_url(meeting), admin_url(meeting, "changelist")):
            found[url] = problems(client.get(url).content.decode())
    found = {url: p for url, p in found.items() if p}
    assert not found, found


def test_reports_and_confidential_reads_escape_what_was_written(client, world):
    # Issue 8 (R-MSG-6, R-MSG-5): a reported message, the concern's text, the reader's reason: on the report
    # page, the Lead's concern pages, the reader's page, the member's "who read it" page and the admin's log.
    pairing = world.pairing_a_dual
    conversation = world.reported_message_a.conversation
    lead, staff = world.safeguarding_lead, world.staff
    now = timezone.now()
    found, everything = {}, ""
    for value in packed(1000):
        message = Message.objects.create(conversation=conversation, sender=pairing.mentor, body=value)
        concern = Concern.objects.create(
            reporter=pairing.mentee,
            source=Concern.Source.MESSAGE,
            person=pairing.mentor,
            person_name=value[:200],
            pairing=pairing,
            message=message,
            what_happened=ALL,
            immediate_risk=True,
            status=Concern.Status.CLOSED,
            outcome=value,
        )
        # Issue 9: what the Lead writes on the case is shown on it too.
        ConcernNote.objects.create(concern=concern, author=lead, kind=ConcernNote.Kind.ACTION, text=value)
        grant = ConversationAccessGrant.objects.create(
            reader=lead,
            conversation=conversation,
            concern=concern,
            reason=value,
            created_at=now,
            expires_at=now + datetime.timedelta(hours=1),
        )
        pages = [
            (pairing.mentee, reverse("message_report", args=[conversation.pk, message.pk])),
            (lead, reverse("concern_detail", args=[concern.pk])),
            (lead, reverse("conversation_read", args=[grant.pk])),
            (lead, reverse("conversation_access", args=[conversation.pk])),
        ]
        for user, url in pages:
            html = render(client, user, url)
            found[url] = problems(html)
            everything += html
    for user, url in (
        (lead, reverse("concern_list")),
        (pairing.mentee, reverse("conversation_access_log")),
        (pairing.mentor, reverse("conversation_access_log")),
        (pairing.mentee, reverse("conversation_detail", args=[conversation.pk])),
        (lead, reverse("admin:messaging_conversationaccesslog_changelist")),
        (lead, reverse("admin:messaging_conversationaccesslog_change", args=[world.access_grant_a.reads.get().pk])),
        (staff, reverse("admin:safeguarding_complaint_change", args=[world.complaint_a_message.pk])),
    ):
        html = render(client, user, url)
        found[url] = problems(html)
        everything += html
    missing = [p for p in PAYLOADS if escape(p) not in everything]
    assert not missing, f"not shown (escaped): {missing[:5]}..."
    found = {url: p for url, p in found.items() if p}
    assert not found, found
