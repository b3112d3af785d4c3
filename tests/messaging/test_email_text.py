"""Plain-text emails arrive as written: no HTML escaping in a text part ("O'Brien & Sons", not
"O&#x27;Brien &amp; Sons"). An HTML part, where there is one, stays escaped."""

from pathlib import Path
from types import SimpleNamespace

import allauth
import pytest
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string

from accounts.models import User
from messaging.services import emails_send_pending, notify
from tests import factories

NASTY = 'O\'Brien & <Sons> "Ltd"'
ESCAPES = ("&amp;", "&#x27;", "&#39;", "&lt;", "&gt;", "&quot;")


def test_a_notification_email_keeps_names_and_titles_as_written(db, django_capture_on_commit_callbacks):
    mentor = factories.UserFactory(first_name="Siobhán O'Brien")
    request = SimpleNamespace(mentee=SimpleNamespace(first_name="Tom & <Jerry>"))
    with django_capture_on_commit_callbacks(execute=True):
        notify(mentor, "request_received", request, body="I work at O'Brien & Sons <Engineering>.")
    (email,) = mail.outbox
    assert email.subject == "Tom & <Jerry> asks you to be their mentor"
    assert email.body.startswith("Hello Siobhán O'Brien,\n")
    assert "Tom & <Jerry> asks you to be their mentor" in email.body
    assert "I work at O'Brien & Sons <Engineering>." in email.body
    assert not any(escape in email.body for escape in ESCAPES)
    # Text only: no HTML part that would need escaping.
    assert not getattr(email, "alternatives", [])
    assert emails_send_pending() == 0


def email_text_templates() -> list[str]:
    """Every text email template: ours, allauth's, and any override of allauth's in templates/account/email/."""
    names = {"messaging/notification_email.txt"}
    for root in [*settings.TEMPLATES[0]["DIRS"], Path(allauth.__file__).parent / "templates"]:
        names |= {f"account/email/{path.name}" for path in (Path(root) / "account" / "email").glob("*.txt")}
    return sorted(names)


@pytest.mark.parametrize("name", email_text_templates())
def test_no_text_email_template_escapes_what_it_is_given(db, name):
    user = User(email="obrien@example.org", first_name=NASTY, last_name=NASTY)
    site = SimpleNamespace(name=NASTY, domain=NASTY)
    context = {
        "user": user,
        "notification": SimpleNamespace(title=NASTY, body=NASTY, url="/x/?a=1&b=2"),
        "site_url": "http://127.0.0.1:8000",
        "current_site": site,
        **dict.fromkeys(
            [
                "activate_url",
                "code",
                "deleted_email",
                "email",
                "from_email",
                "password_reset_url",
                "signup_url",
                "to_email",
                "user_display",
                "username",
                "ip",
                "timestamp",
                "user_agent",
            ],
            NASTY,
        ),
    }
    text = render_to_string(name, context)
    assert not any(escape in text for escape in ESCAPES), text


def test_the_text_templates_really_show_the_values_they_are_given(db):
    # So the test above cannot pass by rendering nothing.
    shown = [
        name
        for name in email_text_templates()
        if NASTY in render_to_string(name, {"user": User(first_name=NASTY), "password_reset_url": NASTY, "code": NASTY})
    ]
    assert "messaging/notification_email.txt" in shown
    assert "account/email/password_reset_key_message.txt" in shown
