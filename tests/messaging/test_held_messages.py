# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""Messages that seem to carry contact details are held for a coordinator (R-MSG-7): the service, the page
and the coordinators' queue in the admin."""

from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mentoring.ending import pairing_end
from mentoring.messages import held_message_reject, held_message_release, held_message_reviewers, message_send
from messaging import selectors
from messaging.models import ConversationRead, HeldMessage, Message, Notification
from messaging.services import conversation_mark_read, message_post, messages_after
from safeguarding.models import AuditEvent
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401
from tests.security.world import role_user

CONTACT = "Email me at amara.obi@example.org and we can talk properly"


def page(conversation):
    return reverse("conversation_detail", args=[conversation.pk])


def queue():
    return reverse("admin:messaging_heldmessage_changelist")


def send(pairing, sender, body=CONTACT):
    return message_send(conversation_id=pairing.conversation.pk, sender=sender, body=body)


@pytest.fixture
def other_coordinator(db, other_network):
    user = role_user(settings.GROUP_COORDINATORS, first_name="Olive")
    other_network.coordinators.add(user)
    return user


@pytest.fixture
def broadcasts():
    """Every push to a conversation's open pages, recorded instead of sent."""
    with mock.patch("messaging.services._message_deliver") as pushed:
        yield pushed


def test_a_message_with_contact_details_is_held_and_never_reaches_the_partner(
    started, coordinator, broadcasts, django_capture_on_commit_callbacks
):
    # R-MSG-7: stored first, held; not pushed, not in the partner's history, inbox, unread count or catch-up
    with django_capture_on_commit_callbacks(execute=True):
        message = send(started, started.mentee)
    assert message.status == Message.Status.HELD
    held = HeldMessage.objects.get(message=message)
    assert (held.reasons, held.decision, held.decided_by) == ("email", "pending", None)
    broadcasts.assert_not_called()
    mentor = started.mentor
    assert not Notification.objects.filter(user=mentor, kind="message_received").exists()
    assert selectors.history_page(started.conversation, viewer=mentor).messages == []
    assert selectors.history_page(started.conversation).messages == []  # no viewer: delivered only
    [row] = selectors.inbox_for(mentor)
    assert (row.unread, row.last_message) == (0, None)
    assert messages_after(conversation=started.conversation, after_id=0, viewer=mentor) == []
    # The sender sees it, in their history, their inbox and their own catch-up.
    assert selectors.history_page(started.conversation, viewer=started.mentee).messages == [message]
    assert selectors.inbox_for(started.mentee)[0].last_message == message
    assert messages_after(conversation=started.conversation, after_id=0, viewer=started.mentee) == [message]
    # The coordinator of the pairing's network is told, without the text or a name, and by email.
    told = Notification.objects.get(user=coordinator, kind="message_held")
    assert told.url == reverse("admin:messaging_heldmessage_change", args=[held.pk])
    assert "amara" not in (told.title + told.body).lower()
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert "amara.obi" not in mail.outbox[0].body


def test_reading_the_conversation_never_marks_a_held_message_read_for_the_partner(started, coordinator):
    # R-MSG-7 with R-MSG-2: the partner's read mark cannot pass a message they cannot see
    held = send(started, started.mentee)
    conversation_mark_read(conversation_id=started.conversation.pk, user=started.mentor, up_to_id=held.pk + 5)
    assert not ConversationRead.objects.filter(user=started.mentor, last_read_id__gt=0).exists()


@pytest.mark.parametrize(
    ("body", "reasons"),
    [
        ("Ring me on 07700 900123", "phone"),
        ("Add me on WhatsApp", "handle"),
        ("My notes are at www.example.org/notes", "url"),
        ("jo@example.org or 07700 900123", "email,phone"),
    ],
)
def test_each_kind_of_contact_detail_is_held_with_its_reason(started, coordinator, body, reasons):
    # R-MSG-7: email address, phone number, messaging or video handle, URL
    message = send(started, started.mentee, body)
    assert message.status == Message.Status.HELD
    assert message.hold.reasons == reasons


def test_an_ordinary_message_is_delivered_as_usual(
    started, coordinator, broadcasts, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send(started, started.mentee, "See you on Thursday at 10:30, room 2.14")
    assert message.status == Message.Status.DELIVERED
    assert not HeldMessage.objects.exists()
    broadcasts.assert_called_once()
    assert not Notification.objects.filter(kind="message_held").exists()


def test_in_a_scheme_that_shares_contact_details_it_is_delivered_as_usual(
    started, scheme, coordinator, broadcasts, django_capture_on_commit_callbacks
):
    # R-MSG-7: schemes that share contact details on match (the mentor agreement, 002)
    scheme.shares_contact_details = True
    scheme.save(update_fields=["shares_contact_details"])
    with django_capture_on_commit_callbacks(execute=True):
        message = send(started, started.mentee)
    assert message.status == Message.Status.DELIVERED
    assert not HeldMessage.objects.exists()
    broadcasts.assert_called_once()
    assert Notification.objects.filter(user=started.mentor, kind="message_received").exists()
    assert selectors.history_page(started.conversation, viewer=started.mentor).messages == [message]


def test_messaging_alone_delivers_unless_asked_to_hold(started):
    # The scheme's rule lives in mentoring.messages.message_send: message_post holds only when told to.
    delivered = message_post(conversation_id=started.conversation.pk, sender=started.mentor, body=CONTACT)
    assert delivered.status == Message.Status.DELIVERED
    held = message_post(
        conversation_id=started.conversation.pk, sender=started.mentor, body=CONTACT, hold_contact_details=True
    )
    assert held.status == Message.Status.HELD


def test_a_network_without_a_coordinator_sends_the_decision_to_staff(started, scheme_staff, other_coordinator):
    # R-MSG-7: someone is always told
    assert list(held_message_reviewers(started.network_id)) == [scheme_staff]
    send(started, started.mentee)
    assert Notification.objects.filter(user=scheme_staff, kind="message_held").exists()
    assert not Notification.objects.filter(user=other_coordinator).exists()


def test_only_the_networks_coordinators_are_told_when_it_has_some(
    started, coordinator, scheme_staff, other_coordinator
):
    assert list(held_message_reviewers(started.network_id)) == [coordinator]


def test_release_delivers_it_then_and_tells_both(started, coordinator, broadcasts, django_capture_on_commit_callbacks):
    # R-MSG-7: released, it is delivered as usual: pushed after commit, the partner notified, the sender told
    held_message = send(started, started.mentee)
    # Meanwhile the mentor writes and reads on: their read mark passes the held message's id.
    later = send(started, started.mentor, "How did the interview go?")
    conversation_mark_read(conversation_id=started.conversation.pk, user=started.mentor)
    broadcasts.reset_mock()
    with django_capture_on_commit_callbacks(execute=True):
        held = held_message_release(held_id=held_message.hold.pk, actor=coordinator)
    held_message.refresh_from_db()
    delivered = held.delivered_as
    assert held_message.status == Message.Status.RELEASED
    assert (held.decision, held.decided_by) == ("released", coordinator) and held.decided_at
    assert (delivered.body, delivered.sender, delivered.status) == (CONTACT, started.mentee, "delivered")
    assert delivered.pk > later.pk  # it arrives after what the partner has already read
    [(conversation_id, payload), _] = broadcasts.call_args
    assert conversation_id == started.conversation.pk
    assert payload["id"] == delivered.pk and payload["released_from"] == held_message.pk
    assert Notification.objects.filter(user=started.mentor, kind="message_received", object_id=delivered.pk).exists()
    assert Notification.objects.filter(user=started.mentee, kind="message_released").exists()
    # The partner sees it, unread, and a page that reconnects with its last id catches up on it.
    assert selectors.inbox_for(started.mentor)[0].unread == 1
    assert messages_after(conversation=started.conversation, after_id=later.pk, viewer=started.mentor) == [delivered]
    # The sender sees one copy: the delivered one.
    assert selectors.history_page(started.conversation, viewer=started.mentee).messages == [later, delivered]
    # The decision is audited: who, what and why it was held; never the text.
    event = AuditEvent.objects.get(action="message.held_released")
    assert (event.actor, event.target_user) == (coordinator, started.mentee)
    assert event.detail["reasons"] == ["email"]
    assert "amara.obi" not in str(event.detail) + event.object_repr


def test_reject_tells_the_sender_and_the_partner_never_sees_it(started, coordinator, broadcasts, client):
    # R-MSG-7: rejected, the sender is told; the partner never sees it
    held_message = send(started, started.mentee)
    held = held_message_reject(held_id=held_message.hold.pk, actor=coordinator)
    held_message.refresh_from_db()
    assert held_message.status == Message.Status.REJECTED
    assert (held.decision, held.decided_by, held.delivered_as) == ("rejected", coordinator, None)
    broadcasts.assert_not_called()
    assert Notification.objects.filter(user=started.mentee, kind="message_rejected").exists()
    assert not Notification.objects.filter(user=started.mentor).exclude(kind="pairing_started").exists()
    assert AuditEvent.objects.filter(action="message.held_rejected", actor=coordinator).exists()
    client.force_login(started.mentor)
    assert "amara.obi" not in client.get(page(started.conversation)).content.decode()
    client.force_login(started.mentee)
    body = client.get(page(started.conversation)).content.decode()
    assert "amara.obi@example.org" in body and "Not delivered" in body
    assert "a coordinator did not release this message" in body


def test_a_decision_is_made_once(started, coordinator, scheme_staff):
    held_message = send(started, started.mentee)
    held_message_release(held_id=held_message.hold.pk, actor=coordinator)
    for decide in (held_message_release, held_message_reject):
        with pytest.raises(ValidationError, match="released already"):
            decide(held_id=held_message.hold.pk, actor=scheme_staff)
    assert Message.objects.filter(status="delivered").count() == 1


def test_only_the_networks_coordinators_and_staff_decide(
    started, coordinator, other_coordinator, scheme_staff, safeguarding_lead
):
    # R-MSG-7 with R-COORD-1: the service checks the network itself, whoever calls it
    held_message = send(started, started.mentee)
    for outsider in (other_coordinator, safeguarding_lead, started.mentor, started.mentee):
        with pytest.raises(PermissionDenied):
            held_message_release(held_id=held_message.hold.pk, actor=outsider)
    assert HeldMessage.objects.get().decision == "pending"
    held_message_reject(held_id=held_message.hold.pk, actor=scheme_staff)
    assert HeldMessage.objects.get().decided_by == scheme_staff


def test_a_held_message_of_an_ended_pairing_can_only_be_rejected(started, coordinator):
    held_message = send(started, started.mentee)
    pairing_end(pairing_id=started.pk, actor=started.mentor, reason="goals_met")
    with pytest.raises(ValidationError, match="pairing has ended"):
        held_message_release(held_id=held_message.hold.pk, actor=coordinator)
    held_message_reject(held_id=held_message.hold.pk, actor=coordinator)
    assert HeldMessage.objects.get().decision == "rejected"


# The page (plain form).


def test_the_sender_is_told_at_once_and_sees_it_marked_held_with_why(client, started, coordinator):
    # R-MSG-7: the sender is told why, on the page
    client.force_login(started.mentee)
    response = client.post(page(started.conversation), {"body": CONTACT}, follow=True)
    assert response.redirect_chain == [(page(started.conversation), 302)]
    body = response.content.decode()
    notice = "Your message is held: it seems to contain an email address."
    assert body.count(notice) == 2  # told at once (a status message) and on the message itself
    assert 'data-status="held"' in body and ">Held<" in body
    assert "amara.obi@example.org" in body
    client.force_login(started.mentor)
    body = client.get(page(started.conversation)).content.decode()
    assert "amara.obi" not in body and 'data-status="held"' not in body and "Your message is held" not in body
    inbox = client.get(reverse("conversation_list")).content.decode()
    assert "amara.obi" not in inbox and ">Held<" not in inbox
    assert "<span data-count>0</span>" in inbox  # the live badge is there, hidden, at 0
    client.force_login(started.mentee)
    inbox = client.get(reverse("conversation_list")).content.decode()
    assert "amara.obi" in inbox and ">Held<" in inbox


# The coordinators' queue in the admin.


def test_the_coordinator_reads_the_waiting_text_in_the_queue_and_releases_it(client, started, coordinator):
    # R-MSG-7: the coordinator of the network releases it from a queue
    held_message = send(started, started.mentee)
    client.force_login(coordinator)
    response = client.get(queue())
    assert response.status_code == 200
    assert [h.pk for h in response.context["cl"].result_list] == [held_message.hold.pk]
    assert CONTACT in response.content.decode() and "an email address" in response.content.decode()
    change = client.get(reverse("admin:messaging_heldmessage_change", args=[held_message.hold.pk]))
    assert change.status_code == 200 and CONTACT in change.content.decode()
    response = client.post(
        queue(), {"action": "release", "_selected_action": [held_message.hold.pk], "index": "0"}, follow=True
    )
    assert "Released 1 message." in response.content.decode()
    assert HeldMessage.objects.get().decision == "released"
    # Decided: gone from the waiting queue, and its text is no longer shown.
    assert list(client.get(queue()).context["cl"].result_list) == []
    decided = client.get(queue(), {"decision": "all"})
    assert len(decided.context["cl"].result_list) == 1
    assert CONTACT not in decided.content.decode()
    assert "the text is no longer shown" in decided.content.decode()
    client.force_login(started.mentor)
    assert "amara.obi@example.org" in client.get(page(started.conversation)).content.decode()


def test_the_queue_shows_held_messages_only(client, started, coordinator):
    # R-MSG-5 with R-MSG-7: the queue is no window on the conversation
    send(started, started.mentor, "An ordinary, private message")
    send(started, started.mentee)
    client.force_login(coordinator)
    for view in (queue(), f"{queue()}?decision=all"):
        assert "An ordinary, private message" not in client.get(view).content.decode()


def test_a_coordinator_of_another_network_cannot_see_or_decide(client, started, coordinator, other_coordinator):
    # R-MSG-7 with R-COORD-1: another network's held message is absent from the list and not found
    held_message = send(started, started.mentee)
    pk = held_message.hold.pk
    client.force_login(other_coordinator)
    response = client.get(queue(), {"decision": "all"})
    assert response.status_code == 200 and list(response.context["cl"].result_list) == []
    assert CONTACT not in response.content.decode()
    assert client.get(reverse("admin:messaging_heldmessage_change", args=[pk])).status_code == 404
    for action in ("release", "reject"):
        client.post(queue(), {"action": action, "_selected_action": [pk], "index": "0"})
        client.post(queue(), {"action": action, "select_across": "1", "index": "0"})
    assert HeldMessage.objects.get().decision == "pending"
    assert not AuditEvent.objects.filter(action__startswith="message.held").exists()


def test_members_and_the_safeguarding_lead_have_no_queue(client, started, coordinator, safeguarding_lead):
    held_message = send(started, started.mentee)
    client.force_login(safeguarding_lead)
    assert client.get(queue()).status_code == 403
    client.force_login(started.mentor)
    assert client.get(queue()).status_code == 302  # to the sign-in page
    client.post(queue(), {"action": "release", "_selected_action": [held_message.hold.pk], "index": "0"})
    assert HeldMessage.objects.get().decision == "pending"


def test_staff_see_every_networks_queue(client, started, scheme_staff):
    held_message = send(started, started.mentee)
    client.force_login(scheme_staff)
    assert [h.pk for h in client.get(queue()).context["cl"].result_list] == [held_message.hold.pk]
    client.post(queue(), {"action": "reject", "_selected_action": [held_message.hold.pk], "index": "0"})
    assert HeldMessage.objects.get().decision == "rejected"


def test_the_queue_refuses_a_second_decision_with_a_message(client, started, coordinator):
    held_message = send(started, started.mentee)
    client.force_login(coordinator)
    selection = {"_selected_action": [held_message.hold.pk], "index": "0"}
    client.post(queue(), {"action": "reject", **selection})
    response = client.post(f"{queue()}?decision=all", {"action": "release", **selection}, follow=True)
    assert response.status_code == 200
    assert "rejected already" in response.content.decode()
    assert HeldMessage.objects.get().decision == "rejected"
    assert not Message.objects.filter(status="delivered").exists()


def test_a_garbage_decision_filter_shows_the_waiting_queue(client, started, coordinator):
    send(started, started.mentee)
    client.force_login(coordinator)
    for value in ("nonsense", "", "1 OR 1=1"):
        response = client.get(queue(), {"decision": value})
        assert response.status_code in (200, 302)


def test_a_held_message_is_not_a_partner_notification_until_released(started, coordinator):
    # R-MSG-7: the partner's bell stays quiet while it waits
    before = Notification.objects.filter(user=started.mentor).count()
    held_message = send(started, started.mentee)
    assert Notification.objects.filter(user=started.mentor).count() == before
    held_message_release(held_id=held_message.hold.pk, actor=factories.UserFactory(is_staff=True, is_superuser=True))
    assert Notification.objects.filter(user=started.mentor).count() == before + 1
