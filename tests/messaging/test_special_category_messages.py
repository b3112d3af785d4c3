# ruff: noqa: F811  (the fixture imported from conversation_fixtures is a parameter by name)
"""The special-category warning before a message is sent (R-MSG-4): quote clause 5.2, edit or send anyway,
and keep only a count."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mentoring.messages import message_send
from messaging.models import Message, SpecialCategoryWarningCount
from messaging.special_category import CLAUSE_5_2, SpecialCategoryWarning
from tests import factories
from tests.messaging.conversation_fixtures import started  # noqa: F401

HIDDEN_WARNING = re.compile(r'<div[^>]*id="special-warning"[^>]*\shidden[\s>]')
TEXT = "I'm Catholic, so Friday evenings are hard for me"


def page(conversation):
    return reverse("conversation_detail", args=[conversation.pk])


def counts(scheme) -> tuple[int, int]:
    row = SpecialCategoryWarningCount.objects.filter(scheme=scheme, day=timezone.now().date()).first()
    return (row.warned, row.sent_anyway) if row else (0, 0)


def test_a_message_with_special_category_data_is_warned_about_before_it_is_stored(started, scheme):
    # R-MSG-4: the writer is warned before the message is saved; the warning quotes clause 5.2
    with pytest.raises(SpecialCategoryWarning) as warned:
        message_send(conversation_id=started.conversation.pk, sender=started.mentee, body=TEXT)
    assert CLAUSE_5_2 in warned.value.text
    assert "religious or philosophical beliefs (“Catholic”)" in warned.value.text
    assert not Message.objects.exists()
    assert counts(scheme) == (1, 0)


def test_the_writer_can_send_it_anyway(started, scheme):
    # R-MSG-4: it warns, it never blocks
    with pytest.raises(SpecialCategoryWarning):
        message_send(conversation_id=started.conversation.pk, sender=started.mentee, body=TEXT)
    message = message_send(
        conversation_id=started.conversation.pk, sender=started.mentee, body=TEXT, confirm_special=True
    )
    assert (message.body, message.status) == (TEXT, Message.Status.DELIVERED)
    assert counts(scheme) == (1, 1)


def test_only_a_count_is_kept(started, scheme, other_network):
    # R-MSG-4: never the text, never the words, never the writer
    for _ in range(3):
        with pytest.raises(SpecialCategoryWarning):
            message_send(conversation_id=started.conversation.pk, sender=started.mentor, body="I have ADHD")
    [row] = SpecialCategoryWarningCount.objects.values()
    assert set(row) == {"id", "scheme_id", "day", "warned", "sent_anyway"}
    assert (row["warned"], row["sent_anyway"]) == (3, 0)


def test_an_ordinary_message_raises_no_warning_and_counts_nothing(started):
    message_send(conversation_id=started.conversation.pk, sender=started.mentee, body="A healthy project timeline")
    assert not SpecialCategoryWarningCount.objects.exists()


def test_a_read_only_conversation_says_so_before_any_warning(started):
    # Nothing to confirm when it cannot be sent at all.
    started.conversation.read_only = True
    started.conversation.save(update_fields=["read_only"])
    with pytest.raises(Exception, match="read-only") as refused:
        message_send(conversation_id=started.conversation.pk, sender=started.mentee, body=TEXT)
    assert not isinstance(refused.value, SpecialCategoryWarning)
    assert not SpecialCategoryWarningCount.objects.exists()


def test_the_page_shows_the_warning_with_the_draft_and_a_send_anyway_button(client, started, scheme):
    # R-MSG-4 on the plain form: a 400 with the draft, the warning quoting clause 5.2, and "Send anyway"
    client.force_login(started.mentee)
    response = client.post(page(started.conversation), {"body": TEXT})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Catholic, so Friday evenings are hard for me</textarea>" in body  # the draft, to edit
    assert "Clause 5.2 of the scheme&#x27;s terms says" in body
    assert "racial or ethnic origin, political opinions, religious or philosophical beliefs" in body
    assert 'name="confirm_special" value="1"' in body and "Send anyway" in body
    assert 'id="special-warning"' in body and not HIDDEN_WARNING.search(body)
    assert "special-warning-text" in body.split('id="message-body"')[1].split(">")[0]  # described by it
    assert not Message.objects.exists()
    # Sent anyway.
    response = client.post(page(started.conversation), {"body": TEXT, "confirm_special": "1"})
    assert response.status_code == 302
    assert Message.objects.get().body == TEXT
    assert counts(scheme) == (1, 1)


def test_the_page_hides_the_warning_until_it_is_needed(client, started):
    client.force_login(started.mentee)
    body = client.get(page(started.conversation)).content.decode()
    assert HIDDEN_WARNING.search(body)


def test_an_edited_message_is_checked_again(client, started):
    client.force_login(started.mentee)
    client.post(page(started.conversation), {"body": TEXT})
    response = client.post(page(started.conversation), {"body": "Friday evenings are hard for me"})
    assert response.status_code == 302
    assert Message.objects.get().body == "Friday evenings are hard for me"


def test_a_message_both_sensitive_and_with_contact_details_is_warned_then_held(client, started, coordinator):
    # R-MSG-4 then R-MSG-7
    client.force_login(started.mentee)
    text = "I'm Catholic; email me at amara@example.org"
    assert client.post(page(started.conversation), {"body": text}).status_code == 400
    response = client.post(page(started.conversation), {"body": text, "confirm_special": "1"}, follow=True)
    assert "Your message is held" in response.content.decode()
    assert Message.objects.get().status == Message.Status.HELD


def test_another_persons_conversation_is_not_found_even_with_send_anyway(client, started, scheme, network):
    # R-MSG-1: another person's id is 404, and nothing is counted or stored
    stranger = factories.eligible_mentee(scheme, network)
    client.force_login(stranger)
    response = client.post(page(started.conversation), {"body": TEXT, "confirm_special": "1"})
    assert response.status_code == 404
    assert not Message.objects.exists() and not SpecialCategoryWarningCount.objects.exists()
