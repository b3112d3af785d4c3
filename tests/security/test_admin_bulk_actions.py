"""Bulk actions with a form first (issue 11, item 4; R-COORD-4, R-COORD-1): a coordinator writes to selected members
of their own networks through the platform; staff withdraw selected memberships with a reason. A forged selection
reaches nobody outside the writer's networks; a missing text or reason is a form error and changes nothing."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from mentoring import member_messages
from mentoring.models import SchemeMembership
from messaging.models import Notification
from safeguarding.models import AuditEvent

USERS = reverse("admin:accounts_user_changelist")
MEMBERSHIPS = reverse("admin:mentoring_schememembership_changelist")


def act(client, url, name, pks, **data):
    return client.post(url, {"action": name, "_selected_action": pks, "index": "0", **data})


def told(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind="scheme_message"))


def test_a_coordinator_writes_to_selected_members_of_their_network(client, world):
    # R-COORD-4: "send a message to the selected members through the platform"
    mentee, mentor = world.mentee_a, world.mentor_a
    client.force_login(world.coordinator_a)
    page = act(client, USERS, "send_message", [mentee.pk, mentor.pk])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="apply"' in html and '<label for="id_body">Message:</label>' in html
    assert not told(mentee)  # the form first: nothing sent yet
    done = act(client, USERS, "send_message", [mentee.pk, mentor.pk], apply="1", body="Workshop on Tuesday at 18:00.")
    assert done.status_code == 302
    for member in (mentee, mentor):
        (note,) = told(member)
        assert note.body.startswith("Workshop on Tuesday at 18:00.")
        assert world.coordinator_a.get_full_name() in note.body
        assert note.email_wanted
    assert AuditEvent.objects.filter(actor=world.coordinator_a, action="members.messaged").count() == 1


def test_a_message_from_the_memberships_list_reaches_the_members(client, world):
    membership = SchemeMembership.objects.filter(user=world.mentee_a).first()
    client.force_login(world.people["staff"])
    act(client, MEMBERSHIPS, "send_message", [membership.pk], apply="1", body="Hello from the scheme.")
    assert len(told(world.mentee_a)) == 1


def test_a_forged_selection_reaches_no_other_network(client, world):
    # R-COORD-1: the list's scoped queryset drops another network's ids; the service refuses them too
    mentee_b = world.people["mentee_b"]
    client.force_login(world.coordinator_a)
    act(client, USERS, "send_message", [mentee_b.pk, world.mentee_a.pk], apply="1", body="Hello.")
    assert not told(mentee_b) and len(told(world.mentee_a)) == 1
    act(client, USERS, "send_message", [mentee_b.pk], apply="1", body="Hello.")
    assert not told(mentee_b)
    with pytest.raises(PermissionDenied):
        member_messages.members_message_send(member_ids=[mentee_b.pk], actor=world.coordinator_a, body="Hello.")
    with pytest.raises(PermissionDenied):
        member_messages.members_message_send(member_ids=[mentee_b.pk], actor=world.mentee_a, body="Hello.")


@pytest.mark.parametrize("body", ["", "   ", "x" * 20000, "bad\x00text"])
def test_an_empty_or_bad_message_is_a_form_error(client, world, body):
    client.force_login(world.coordinator_a)
    response = act(client, USERS, "send_message", [world.mentee_a.pk], apply="1", body=body)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not told(world.mentee_a)


def test_staff_withdraw_selected_memberships_with_a_reason(client, world):
    # R-COORD-4: "withdraw with a reason"; R-PAIR-7: pairings end, the member is told the reason
    membership = SchemeMembership.objects.filter(user=world.mentee_a).first()
    client.force_login(world.people["staff"])
    page = act(client, MEMBERSHIPS, "withdraw_selected", [membership.pk])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    missing = act(client, MEMBERSHIPS, "withdraw_selected", [membership.pk], apply="1", reason="  ")
    assert missing.status_code == 400 and "Give the reason" in missing.content.decode()
    assert SchemeMembership.objects.get(pk=membership.pk).status == membership.status
    done = act(client, MEMBERSHIPS, "withdraw_selected", [membership.pk], apply="1", reason="Left the profession.")
    assert done.status_code == 302
    assert SchemeMembership.objects.get(pk=membership.pk).status == SchemeMembership.Status.WITHDRAWN


def test_a_coordinator_cannot_withdraw_in_bulk(client, world):
    membership = SchemeMembership.objects.filter(user=world.mentee_a).first()
    client.force_login(world.coordinator_a)
    act(client, MEMBERSHIPS, "withdraw_selected", [membership.pk], apply="1", reason="No.")
    assert SchemeMembership.objects.get(pk=membership.pk).status == membership.status
