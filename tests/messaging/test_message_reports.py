# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""Reporting a message from the conversation (R-MSG-6): as a complaint (the complaints of issue 7) or as a
safeguarding concern, which goes to the Safeguarding Lead group and nobody else (R-SAFE-1)."""

import datetime
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from mentoring import services
from messaging.models import Message, Notification
from messaging.services import emails_send_pending, message_post
from safeguarding import concerns
from safeguarding.models import AuditEvent, Complaint, Concern
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401


def lead(first_name: str, *, also=()):
    user = factories.UserFactory(is_staff=True, first_name=first_name)
    for name in (settings.GROUP_SAFEGUARDING_LEAD, *also):
        user.groups.add(Group.objects.get(name=name))
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def leads(db):
    """Two Safeguarding Leads, one of whom is also staff (told once all the same)."""
    return [lead("Morgan"), lead("Rowan", also=(settings.GROUP_STAFF,))]


@pytest.fixture
def from_mentor(started):
    """A message from the mentor (David) to the mentee (Amara), who reports it."""
    return message_post(conversation_id=started.conversation.pk, sender=started.mentor, body="Meet me alone tonight.")


def report_url(message: Message) -> str:
    return reverse("message_report", args=[message.conversation_id, message.pk])


CONCERN = {"kind": "concern", "what_happened": "He asked to meet me alone at night.", "immediate_risk": "yes"}
COMPLAINT = {"kind": "complaint", "what_happened": "He was rude about my work."}


def written() -> tuple:
    return Concern.objects.count(), Complaint.objects.count(), Notification.objects.count(), AuditEvent.objects.count()


def test_each_message_from_the_partner_has_a_report_link_named_for_its_sender_and_time(client, started, from_mentor):
    # R-MSG-6: reported "from a message"; the link's accessible name says which message
    own = message_post(conversation_id=started.conversation.pk, sender=started.mentee, body="Hello")
    client.force_login(started.mentee)
    html = client.get(started.conversation.get_absolute_url()).content.decode()
    assert report_url(from_mentor) in html
    assert report_url(own) not in html
    link = re.search(rf'<a href="{re.escape(report_url(from_mentor))}"[^>]*>(.*?)</a>', html, re.S).group(1)
    when = timezone.localtime(from_mentor.created_at).strftime("%-d %b %Y, %H:%M")
    assert re.sub(r"<[^>]+>", "", link).split() == ["Report", "the", "message", "from", "David", "of", *when.split()]


def test_a_message_reported_as_a_complaint_is_a_complaint_about_its_sender_in_their_pairing(
    client, started, from_mentor, coordinator
):
    # R-MSG-6 with R-SAFE-4: the handler knows which message, and whom and which pairing it is about
    client.force_login(started.mentee)
    assert client.get(report_url(from_mentor)).status_code == 200
    response = client.post(report_url(from_mentor), COMPLAINT)
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == complaint.get_absolute_url()
    assert (complaint.complainant, complaint.about, complaint.person) == (started.mentee, "person", started.mentor)
    assert (complaint.pairing, complaint.message, complaint.text) == (started, from_mentor, COMPLAINT["what_happened"])
    assert Notification.objects.filter(user=coordinator, kind="complaint_made").count() == 1
    assert not Concern.objects.exists()


def test_the_complaint_handler_sees_when_and_from_whom_but_not_the_text(client, started, from_mentor, scheme_staff):
    # R-MSG-5: the handler reads the message only through the audited access page, which the admin links to
    client.force_login(started.mentee)
    client.post(report_url(from_mentor), COMPLAINT)
    complaint = Complaint.objects.get()
    client.force_login(scheme_staff)
    html = client.get(reverse("admin:safeguarding_complaint_change", args=[complaint.pk])).content.decode()
    assert "From David" in html
    assert from_mentor.body not in html
    assert f"{reverse('conversation_access', args=[started.conversation.pk])}?complaint={complaint.pk}" in html


def test_a_concern_is_stored_then_every_lead_is_told_once_marked_urgent(
    client, started, from_mentor, leads, scheme_staff, coordinator, django_capture_on_commit_callbacks
):
    # R-MSG-6, R-SAFE-1: stored first; every member of the Safeguarding Lead group told once, in the platform
    # and by email, urgent ones marked so; nobody else told
    client.force_login(started.mentee)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(report_url(from_mentor), CONCERN, follow=True)
    concern = Concern.objects.get()
    assert (concern.reporter, concern.person, concern.pairing, concern.message) == (
        started.mentee,
        started.mentor,
        started,
        from_mentor,
    )
    assert (concern.immediate_risk, concern.status, concern.source) == (True, "new", "message")
    assert concern.what_happened == CONCERN["what_happened"]
    told = Notification.objects.filter(kind="concern_raised")
    assert sorted(n.user_id for n in told) == sorted(u.pk for u in leads)
    assert {n.title for n in told} == {"URGENT: A safeguarding concern was raised"}
    assert {n.url for n in told} == {concern.get_absolute_url()}
    others = Notification.objects.filter(kind__startswith="concern_").exclude(user__in=[*leads, started.mentee])
    assert not others.exists()
    # Emailed to each lead once, even when the job runs again.
    emails_send_pending()
    to_leads = [m for m in mail.outbox if "safeguarding concern" in m.subject]
    assert sorted(m.to[0] for m in to_leads) == sorted(u.email for u in leads)
    assert all(m.subject.endswith("URGENT: A safeguarding concern was raised") for m in to_leads)
    assert CONCERN["what_happened"] not in "".join(m.body for m in to_leads)
    # The reporter: a receipt on the page and in the platform, not by email, and no access to the case.
    assert response.redirect_chain[-1][0] == started.conversation.get_absolute_url()
    assert "We have passed this to the Safeguarding Lead" in response.content.decode()
    receipt = Notification.objects.get(user=started.mentee, kind="concern_received")
    assert not receipt.email_wanted and receipt.url != concern.get_absolute_url()
    assert not [m for m in mail.outbox if started.mentee.email in m.to and "concern" in m.subject]
    assert client.get(concern.get_absolute_url()).status_code == 404
    assert client.get(reverse("concern_list")).status_code == 404


def test_a_concern_without_immediate_risk_is_not_marked_urgent(client, started, from_mentor, leads):
    client.force_login(started.mentee)
    client.post(report_url(from_mentor), {**CONCERN, "immediate_risk": "no", "happened_on": "2020-03-01"})
    concern = Concern.objects.get()
    assert not concern.immediate_risk and concern.happened_on == datetime.date(2020, 3, 1)
    assert {n.title for n in Notification.objects.filter(kind="concern_raised")} == {
        "A safeguarding concern was raised"
    }


def test_a_lead_the_concern_is_about_is_not_told(started, from_mentor, leads):
    # R-SAFE-1: a concern about a Lead goes to the others
    subject = leads[0]
    concern = Concern.objects.create(reporter=started.mentee, person=subject, what_happened="x", immediate_risk=False)
    assert concerns.concern_recipients(concern) == [leads[1]]


def test_with_no_lead_to_tell_the_concern_is_emailed_to_the_safeguarding_address(
    started, from_mentor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        concerns.concern_raise(
            reporter=started.mentee, what_happened="Worrying.", immediate_risk=True, message=from_mentor
        )
    sent = [m for m in mail.outbox if m.to == [settings.SAFEGUARDING_EMAIL]]
    assert len(sent) == 1 and sent[0].subject == "URGENT: A safeguarding concern was raised"


@pytest.mark.parametrize("who", ["partner", "stranger", "staff", "coordinator", "lead"])
def test_only_the_other_member_of_the_pair_can_report_a_message(
    client, started, from_mentor, who, scheme, network, scheme_staff, coordinator, leads
):
    # R-MSG-6: the sender cannot report their own message, and nobody outside the pair reaches it at all
    person = {
        "partner": started.mentor,  # the message is theirs
        "stranger": factories.eligible_mentee(scheme, network),
        "staff": scheme_staff,
        "coordinator": coordinator,
        "lead": leads[0],
    }[who]
    before = written()
    client.force_login(person)
    assert client.get(report_url(from_mentor)).status_code == 404
    for data in (CONCERN, COMPLAINT):
        assert client.post(report_url(from_mentor), data).status_code == 404
    assert written() == before


def test_a_message_of_another_conversation_is_not_found_through_ones_own(client, started, from_mentor, scheme, network):
    # R-MSG-6: another person's message id gives 404, even inside the reporter's own conversation's address
    other_mentor = factories.listed_mentor(scheme, network)
    other_mentee = factories.eligible_mentee(scheme, network)
    other = services.pairing_start(mentor=other_mentor, mentee=other_mentee, scheme=scheme, origin="manual")
    theirs = message_post(conversation_id=other.conversation.pk, sender=other_mentor, body="Private")
    client.force_login(started.mentee)
    url = reverse("message_report", args=[started.conversation.pk, theirs.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, CONCERN).status_code == 404
    assert not Concern.objects.exists()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({**CONCERN, "what_happened": "   "}, "This field is required."),
        ({**CONCERN, "what_happened": "x" * 5001}, "at most 5000 characters"),
        ({**CONCERN, "what_happened": "a\x00b"}, "Null characters are not allowed."),
        ({**CONCERN, "immediate_risk": ""}, "Say whether anyone is at immediate risk of harm."),
        ({**CONCERN, "immediate_risk": "maybe"}, "Select a valid choice."),
        ({**CONCERN, "kind": ""}, "This field is required."),
        ({**CONCERN, "kind": "gossip"}, "Select a valid choice."),
        ({**CONCERN, "happened_on": "9999-12-31"}, "cannot be in the future"),
        ({**CONCERN, "happened_on": "0001-01-01"}, "Check the date it happened."),
        ({**CONCERN, "happened_on": "2026-02-30"}, "Enter a valid date."),
        ({**COMPLAINT, "what_happened": ""}, "This field is required."),
    ],
)
def test_bad_input_is_a_clear_400_and_nothing_is_written(client, started, from_mentor, leads, data, says):
    # R-MSG-6: the form says what is wrong; no concern, complaint, notification or audit event half-written
    client.force_login(started.mentee)
    before = written()
    response = client.post(report_url(from_mentor), data)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert 'role="alert"' in response.content.decode() or "invalid-feedback" in response.content.decode()
    assert written() == before


def test_the_report_page_quotes_the_message_escaped(client, started):
    message = message_post(conversation_id=started.conversation.pk, sender=started.mentor, body="<b>hi</b>")
    client.force_login(started.mentee)
    html = client.get(report_url(message)).content.decode()
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html


# Concerns are the Safeguarding Lead group's alone (R-SAFE-1; issue 9, item 2).


@pytest.fixture
def concern(started, from_mentor, leads):
    return concerns.concern_raise(
        reporter=started.mentee, what_happened="He asked to meet alone.", immediate_risk=True, message=from_mentor
    )


def test_only_the_safeguarding_lead_group_lists_and_reads_concerns(
    client, started, concern, leads, scheme_staff, coordinator
):
    # R-SAFE-1: coordinators, staff, the reporter and the person it is about get 404
    for person in (scheme_staff, coordinator, started.mentee, started.mentor):
        client.force_login(person)
        assert client.get(reverse("concern_list")).status_code == 404
        assert client.get(concern.get_absolute_url()).status_code == 404
    client.force_login(leads[0])
    listing = client.get(reverse("concern_list"))
    assert listing.status_code == 200 and concern.get_absolute_url() in listing.content.decode()
    page = client.get(concern.get_absolute_url()).content.decode()
    assert "He asked to meet alone." in page and "Urgent" in page
    assert f"{reverse('conversation_access', args=[started.conversation.pk])}?concern={concern.pk}" in page
    # Each reading of the case is audited.
    assert AuditEvent.objects.filter(actor=leads[0], action="concern.viewed").count() == 1


def test_urgent_concerns_come_first_then_the_oldest(client, started, from_mentor, leads):
    # Issue 9, item 2: a queue by urgency and age
    def raise_(risk, days_ago):
        c = concerns.concern_raise(reporter=started.mentee, what_happened="x", immediate_risk=risk, message=from_mentor)
        Concern.objects.filter(pk=c.pk).update(created_at=timezone.now() - datetime.timedelta(days=days_ago))
        return c.pk

    new_calm, old_calm, new_urgent, old_urgent = raise_(False, 1), raise_(False, 5), raise_(True, 1), raise_(True, 3)
    client.force_login(leads[0])
    shown = [c.pk for c in client.get(reverse("concern_list")).context["page"]]
    assert shown == [old_urgent, new_urgent, old_calm, new_calm]


def test_the_admin_tells_staff_nothing_of_a_concern(client, concern, leads, scheme_staff):
    # R-SAFE-1: no notification or audit event in the admin tells staff that a concern exists
    client.force_login(scheme_staff)
    notes = client.get(reverse("admin:messaging_notification_changelist")).context["cl"].result_list
    assert not [n for n in notes if n.kind.startswith("concern_")]
    events = client.get(reverse("admin:safeguarding_auditevent_changelist")).context["cl"].result_list
    assert not [e for e in events if e.action.startswith("concern.")]
    hidden = Notification.objects.filter(kind="concern_raised").first()
    assert client.get(reverse("admin:messaging_notification_change", args=[hidden.pk])).status_code == 404
    # A Lead who is also staff sees them (the notification list is staff's).
    client.force_login(leads[1])
    notes = client.get(reverse("admin:messaging_notification_changelist")).context["cl"].result_list
    assert [n for n in notes if n.kind == "concern_raised"]
    events = client.get(reverse("admin:safeguarding_auditevent_changelist")).context["cl"].result_list
    assert [e for e in events if e.action == "concern.raised"]


def test_a_lead_without_two_factor_is_sent_to_set_it_up(client, concern, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    unprotected = factories.UserFactory(is_staff=True)
    unprotected.groups.add(Group.objects.get(name=settings.GROUP_SAFEGUARDING_LEAD))
    client.force_login(unprotected)
    response = client.get(concern.get_absolute_url())
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert not AuditEvent.objects.filter(actor=unprotected).exists()
