# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""Confidential conversations (R-MSG-5): staff and the Safeguarding Lead read one only through the access page,
naming a complaint or concern about its people or pairing and a reason; the grant lasts at most 24 hours; every
read is written to an append-only log that the members see and staff dashboards count."""

import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone

from messaging import selectors
from messaging.models import (
    AppendOnlyError,
    Conversation,
    ConversationAccessGrant,
    ConversationAccessLog,
    Message,
)
from messaging.services import message_post
from safeguarding import concerns, confidential
from safeguarding.models import AuditEvent, Complaint, Concern
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401

REASON = "Looking into the complaint that he was rude in messages."


@pytest.fixture
def chat(started):
    """A few messages between David (mentor) and Amara (mentee)."""
    c = started.conversation
    message_post(conversation_id=c.pk, sender=started.mentee, body="Hello David")
    return message_post(conversation_id=c.pk, sender=started.mentor, body="Your work is rubbish.")


@pytest.fixture
def complaint(started, chat):
    """Amara's open complaint about David's message."""
    return Complaint.objects.create(
        complainant=started.mentee,
        about=Complaint.About.PERSON,
        person=started.mentor,
        pairing=started,
        message=chat,
        text="He was rude.",
    )


@pytest.fixture
def concern(started, chat):
    return Concern.objects.create(
        reporter=started.mentee,
        source=Concern.Source.MESSAGE,
        person=started.mentor,
        pairing=started,
        message=chat,
        what_happened="He asked to meet alone.",
        immediate_risk=True,
    )


def access_url(conversation) -> str:
    return reverse("conversation_access", args=[conversation.pk])


def ask(client, reader, conversation, purpose, reason=REASON, hours="24"):
    client.force_login(reader)
    return client.post(access_url(conversation), {"purpose": purpose, "reason": reason, "hours": hours})


def grant_for(reader, conversation, *, complaint=None, concern=None, hours_ago=0, hours=24):
    start = timezone.now() - datetime.timedelta(hours=hours_ago)
    return ConversationAccessGrant.objects.create(
        reader=reader,
        conversation=conversation,
        complaint=complaint,
        concern=concern,
        reason=REASON,
        created_at=start,
        expires_at=start + datetime.timedelta(hours=hours),
    )


def written() -> tuple:
    return ConversationAccessGrant.objects.count(), ConversationAccessLog.objects.count(), AuditEvent.objects.count()


def test_conversations_grants_and_messages_are_not_in_the_admin():
    # R-MSG-5: no admin page shows a conversation; only the access log is there, read-only
    registered = {model.__name__ for model in admin.site._registry}
    assert not registered & {"Conversation", "Message", "ConversationRead", "ConversationAccessGrant"}
    log_admin = admin.site._registry[ConversationAccessLog]
    assert "conversation" in log_admin.readonly_fields and "body" not in str(log_admin.fields)


def test_staff_read_a_conversation_through_the_access_page_for_a_complaint(
    client, started, chat, complaint, scheme_staff
):
    # R-MSG-5: name the complaint and a reason; the read is read-only, with a banner naming the grant
    conversation = started.conversation
    client.force_login(scheme_staff)
    assert client.get(conversation.get_absolute_url()).status_code == 404  # no way round the access page
    page = client.get(access_url(conversation), {"complaint": complaint.pk})
    assert page.status_code == 200 and page.context["form"].initial["purpose"] == f"complaint-{complaint.pk}"
    response = ask(client, scheme_staff, conversation, f"complaint-{complaint.pk}")
    grant = ConversationAccessGrant.objects.get()
    assert response.status_code == 302 and response["Location"] == grant.get_absolute_url()
    assert (grant.reader, grant.conversation, grant.complaint, grant.concern) == (
        scheme_staff,
        conversation,
        complaint,
        None,
    )
    assert grant.reason == REASON
    assert grant.expires_at - grant.created_at == datetime.timedelta(hours=24)
    assert AuditEvent.objects.filter(actor=scheme_staff, action="conversation.access_granted").count() == 1
    read = client.get(grant.get_absolute_url())
    html = read.content.decode()
    assert read.status_code == 200
    assert "Your work is rubbish." in html and "Hello David" in html
    assert f"complaint {complaint.pk}" in html and REASON in html
    assert timezone.localtime(grant.expires_at).strftime("%-d %b %Y, %H:%M") in html
    assert 'name="body"' not in html and "conversation.js" not in html  # no composer, no socket
    assert "message_report" not in html and "/report/" not in html


def test_every_read_is_logged_with_who_when_and_why(client, started, chat, complaint, scheme_staff):
    # R-MSG-5: each page view under a grant writes one row
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    client.force_login(scheme_staff)
    before = timezone.now()
    client.get(grant.get_absolute_url())
    client.get(grant.get_absolute_url(), {"before": chat.pk})  # an older page is a read too
    rows = list(ConversationAccessLog.objects.order_by("pk"))
    assert len(rows) == 2
    assert {(r.reader, r.conversation, r.grant, r.reason) for r in rows} == {
        (scheme_staff, started.conversation, grant, REASON)
    }
    assert all(r.at >= before for r in rows)


@pytest.mark.parametrize("who", ["mentee", "mentor", "stranger", "coordinator", "staff_elsewhere", "lead_elsewhere"])
def test_nobody_else_reads_under_a_grant_or_gets_one(
    client, started, complaint, who, scheme, network, scheme_staff, coordinator, safeguarding_lead
):
    # R-MSG-5: the pair, other members and coordinators cannot reach the access page (404) or get a grant;
    # another reader's grant is 404 even to staff and the Lead
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    person = {
        "mentee": started.mentee,
        "mentor": started.mentor,
        "stranger": factories.eligible_mentee(scheme, network),
        "coordinator": coordinator,
        "staff_elsewhere": factories.UserFactory(is_staff=True),  # staff flag but no role
        "lead_elsewhere": safeguarding_lead,
    }[who]
    before = written()
    client.force_login(person)
    assert client.get(grant.get_absolute_url()).status_code == 404
    if who != "lead_elsewhere":
        assert client.get(access_url(started.conversation)).status_code == 404
        assert ask(client, person, started.conversation, f"complaint-{complaint.pk}").status_code == 404
    assert written() == before


def test_an_expired_grant_is_not_found_and_asks_for_a_new_one(client, started, complaint, scheme_staff):
    # R-MSG-5: at most 24 hours; then a new grant is needed, and nothing is read or logged
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint, hours_ago=25)
    client.force_login(scheme_staff)
    response = client.get(grant.get_absolute_url())
    assert response.status_code == 404
    html = response.content.decode()
    assert f"{access_url(started.conversation)}?expired=1" in html
    assert "Your work is rubbish." not in html
    assert not ConversationAccessLog.objects.exists()
    again = client.get(access_url(started.conversation), {"expired": "1"}).content.decode()
    assert "Your access to this conversation has ended" in again


def test_a_grant_never_lasts_more_than_24_hours(client, started, complaint, scheme_staff):
    # R-MSG-5: not through the form, and not by writing the model directly
    before = written()
    response = ask(client, scheme_staff, started.conversation, f"complaint-{complaint.pk}", hours="48")
    assert response.status_code == 400 and written() == before
    with pytest.raises(ValueError, match="at most 24 hours"):
        grant_for(scheme_staff, started.conversation, complaint=complaint, hours=25)
    with pytest.raises(ValueError):  # no end at all
        ConversationAccessGrant(
            reader=scheme_staff, conversation=started.conversation, complaint=complaint, reason=REASON
        ).save()
    with pytest.raises(ValidationError, match="at most 24 hours"):
        confidential.conversation_access_grant(
            reader=scheme_staff,
            conversation_id=started.conversation.pk,
            purpose=f"complaint-{complaint.pk}",
            reason=REASON,
            hours=25,
        )
    assert written() == before


def test_a_grant_for_an_unrelated_or_closed_complaint_is_refused(
    client, started, complaint, scheme, network, scheme_staff
):
    # R-MSG-5: only a complaint or concern about one of the conversation's two people or its pairing
    stranger = factories.eligible_mentee(scheme, network)
    someone = factories.eligible_mentee(scheme, network)
    unrelated = Complaint.objects.create(
        complainant=stranger, about=Complaint.About.PERSON, person=someone, text="Not about them."
    )
    closed = Complaint.objects.create(
        complainant=started.mentee,
        about=Complaint.About.PERSON,
        person=started.mentor,
        text="Old.",
        status=Complaint.Status.RESOLVED,
        outcome="Settled.",
    )
    offered = [p.key for p in confidential.access_purposes(scheme_staff, started.conversation)]
    assert offered == [f"complaint-{complaint.pk}"]
    before = written()
    for purpose in (f"complaint-{unrelated.pk}", f"complaint-{closed.pk}", "complaint-999999", "", "concern-1"):
        response = ask(client, scheme_staff, started.conversation, purpose)
        assert response.status_code == 400, purpose
    assert written() == before


@pytest.mark.parametrize(
    ("reason", "says"),
    [("", "This field is required."), ("because", "at least 10 characters"), ("x" * 1001, "at most 1000")],
)
def test_a_grant_needs_a_reason(client, started, complaint, scheme_staff, reason, says):
    before = written()
    response = ask(client, scheme_staff, started.conversation, f"complaint-{complaint.pk}", reason=reason)
    assert response.status_code == 400 and says in response.content.decode()
    assert written() == before


def test_staff_cannot_name_a_concern_only_the_lead_can(client, started, concern, scheme_staff, safeguarding_lead):
    # R-MSG-5 with R-SAFE-1: concerns are the Safeguarding Lead's; staff are not even offered one
    assert confidential.access_purposes(scheme_staff, started.conversation) == []
    before = written()
    assert ask(client, scheme_staff, started.conversation, f"concern-{concern.pk}").status_code == 400
    assert f"concern {concern.pk}" not in client.get(access_url(started.conversation)).content.decode().lower()
    assert written() == before
    response = ask(client, safeguarding_lead, started.conversation, f"concern-{concern.pk}")
    grant = ConversationAccessGrant.objects.get()
    assert response.status_code == 302 and grant.concern == concern
    assert client.get(grant.get_absolute_url()).status_code == 200
    # Its audit events are concern business: listed to the Lead group only.
    assert AuditEvent.objects.filter(action="concern.conversation_access").count() == 1


def test_a_reader_does_not_look_into_a_matter_about_themselves(client, started, scheme_staff):
    complaint = Complaint.objects.create(
        complainant=started.mentee, about=Complaint.About.PERSON, person=scheme_staff, text="x"
    )
    # The staff member is not in this conversation, so it is not about it either; a complaint by a staff member
    # about the mentor is theirs, and they do not investigate it.
    own = Complaint.objects.create(
        complainant=scheme_staff, about=Complaint.About.PERSON, person=started.mentor, text="x"
    )
    offered = {p.key for p in confidential.access_purposes(scheme_staff, started.conversation)}
    assert f"complaint-{own.pk}" not in offered and f"complaint-{complaint.pk}" not in offered


def test_a_reader_who_loses_the_role_loses_the_grant(client, started, complaint, scheme_staff):
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    scheme_staff.groups.clear()
    client.force_login(scheme_staff)
    assert client.get(grant.get_absolute_url()).status_code == 404
    assert not ConversationAccessLog.objects.exists()


def test_staff_without_two_factor_are_sent_to_set_it_up(client, started, complaint, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    unprotected = factories.UserFactory(is_staff=True)
    unprotected.groups.add(Group.objects.get(name=settings.GROUP_STAFF))
    grant = grant_for(unprotected, started.conversation, complaint=complaint)
    client.force_login(unprotected)
    for url in (access_url(started.conversation), grant.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
    assert not ConversationAccessLog.objects.exists()


# The log is append-only (R-MSG-5).


@pytest.fixture
def log_row(started, complaint, scheme_staff):
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    return ConversationAccessLog.objects.create(
        reader=scheme_staff, conversation=started.conversation, grant=grant, reason=REASON
    )


def test_log_rows_cannot_be_changed_or_deleted(log_row):
    # R-MSG-5: append-only, whichever way a writer tries
    log_row.reason = "Nothing to see"
    with pytest.raises(AppendOnlyError):
        log_row.save()
    with pytest.raises(AppendOnlyError):
        log_row.save(update_fields=["reason"])
    with pytest.raises(AppendOnlyError):
        log_row.delete()
    with pytest.raises(AppendOnlyError):
        ConversationAccessLog.objects.filter(pk=log_row.pk).update(reason="Nothing to see")
    with pytest.raises(AppendOnlyError):
        ConversationAccessLog.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        ConversationAccessLog.objects.bulk_update([log_row], ["reason"])
    stored = ConversationAccessLog.objects.get(pk=log_row.pk)
    assert stored.reason == REASON


def test_what_a_log_row_points_at_cannot_be_deleted_from_under_it(log_row, started):
    # Deleting the conversation (or its pairing) would cascade into the log: it is refused instead.
    with pytest.raises(ProtectedError), transaction.atomic():
        Conversation.objects.filter(pk=started.conversation.pk).delete()
    assert ConversationAccessLog.objects.filter(pk=log_row.pk).exists()
    assert Message.objects.filter(conversation=started.conversation).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database trigger is PostgreSQL's")
def test_the_database_refuses_to_change_a_log_row_too(log_row):
    # R-MSG-5: even SQL that bypasses the model cannot rewrite history on PostgreSQL
    for sql in (
        "UPDATE messaging_conversationaccesslog SET reason = 'x' WHERE id = %s",
        "DELETE FROM messaging_conversationaccesslog WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [log_row.pk])
    assert ConversationAccessLog.objects.get(pk=log_row.pk).reason == REASON


def test_the_admin_shows_the_log_read_only_to_staff(client, log_row, scheme_staff, coordinator):
    # R-MSG-5: staff see every read (but never the conversation); coordinators do not see the log
    client.force_login(scheme_staff)
    listing = client.get(reverse("admin:messaging_conversationaccesslog_changelist"))
    assert listing.status_code == 200 and log_row in listing.context["cl"].result_list
    change = client.get(reverse("admin:messaging_conversationaccesslog_change", args=[log_row.pk]))
    assert change.status_code == 200 and not change.context["has_change_permission"]
    assert "Your work is rubbish." not in change.content.decode()
    assert client.get(reverse("admin:messaging_conversationaccesslog_add")).status_code == 403
    assert client.post(reverse("admin:messaging_conversationaccesslog_delete", args=[log_row.pk])).status_code == 403
    client.force_login(coordinator)
    assert client.get(reverse("admin:messaging_conversationaccesslog_changelist")).status_code == 403


def test_staff_do_not_see_reads_made_for_a_concern(client, started, concern, scheme_staff, safeguarding_lead):
    # R-SAFE-1: even that a concern was looked into is the Lead group's alone
    grant = grant_for(safeguarding_lead, started.conversation, concern=concern)
    row = ConversationAccessLog.objects.create(
        reader=safeguarding_lead, conversation=started.conversation, grant=grant, reason=REASON
    )
    client.force_login(scheme_staff)
    listed = client.get(reverse("admin:messaging_conversationaccesslog_changelist")).context["cl"].result_list
    assert row not in listed
    assert client.get(reverse("admin:messaging_conversationaccesslog_change", args=[row.pk])).status_code == 404
    client.force_login(safeguarding_lead)
    listed = client.get(reverse("admin:messaging_conversationaccesslog_changelist")).context["cl"].result_list
    assert row in listed


# The members see every read (R-MSG-5).


def test_both_members_see_who_read_their_conversation_when_and_why(
    client, started, complaint, scheme_staff, scheme, network
):
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    client.force_login(scheme_staff)
    client.get(grant.get_absolute_url())
    read = ConversationAccessLog.objects.get()
    when = timezone.localtime(read.at).strftime("%-d %b %Y, %H:%M")
    for member in (started.mentee, started.mentor):
        client.force_login(member)
        html = client.get(reverse("conversation_access_log")).content.decode()
        assert scheme_staff.get_full_name() in html and when in html
        assert f"A complaint: {REASON}" in html
        # Linked from the conversation (now that it has been read) and from the account details.
        assert (
            reverse("conversation_access_log") in client.get(started.conversation.get_absolute_url()).content.decode()
        )
        assert reverse("conversation_access_log") in client.get(reverse("account_details")).content.decode()
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    html = client.get(reverse("conversation_access_log")).content.decode()
    assert REASON not in html and "No one has read your conversations." in html


def test_the_conversation_page_mentions_reads_only_when_there_are_some(client, started, chat):
    client.force_login(started.mentee)
    html = client.get(started.conversation.get_absolute_url()).content.decode()
    assert 'data-testid="conversation-was-read"' not in html


def test_staff_dashboards_count_the_reads(started, complaint, scheme_staff, log_row):
    # R-MSG-5: "staff dashboards count" the reads
    grant = log_row.grant
    ConversationAccessLog.objects.create(
        reader=scheme_staff,
        conversation=started.conversation,
        grant=grant,
        reason=REASON,
        at=timezone.now() - datetime.timedelta(days=40),
    )
    assert selectors.confidential_reads_count() == 2
    assert selectors.confidential_reads_count(since=timezone.now() - datetime.timedelta(days=30)) == 1


def test_the_members_are_listed_the_reads_of_their_conversations_in_few_queries(
    client, started, complaint, scheme_staff, django_assert_max_num_queries
):
    grant = grant_for(scheme_staff, started.conversation, complaint=complaint)
    for _ in range(20):
        ConversationAccessLog.objects.create(
            reader=scheme_staff, conversation=started.conversation, grant=grant, reason=REASON
        )
    client.force_login(started.mentee)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("conversation_access_log")).status_code == 200


def test_a_lead_does_not_look_into_a_concern_they_raised(started, chat):
    lead = factories.UserFactory(is_staff=True)
    lead.groups.add(Group.objects.get(name=settings.GROUP_SAFEGUARDING_LEAD))
    TOTP.activate(lead, generate_totp_secret())
    own = Concern.objects.create(
        reporter=lead, person=started.mentor, what_happened="Seen at a meeting.", immediate_risk=False
    )
    assert concerns.may_see_concerns(lead)
    assert f"concern-{own.pk}" not in {p.key for p in confidential.access_purposes(lead, started.conversation)}
