"""Versioned scheme documents: publishing, acceptance, and the checklist asking until accepted (R-SCHEME-4)."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from mentoring import services
from mentoring.models import Role, SchemeMembership, TermsAcceptance
from messaging.models import Notification
from safeguarding import eligibility
from tests import factories


@pytest.fixture
def draft(documents):
    return factories.TermsVersionFactory(
        kind="terms", version="2027.1", published_at=None, summary_of_changes="Clause 5.3 now covers members abroad."
    )


def test_publishing_asks_everyone_to_accept_until_they_do(
    client, mentee, scheme, draft, scheme_staff, django_capture_on_commit_callbacks
):
    # R-SCHEME-4, R-ELIG-5
    assert eligibility.check(mentee, scheme, Role.MENTEE).ok
    with django_capture_on_commit_callbacks(execute=True):
        told = services.terms_publish(version_id=draft.pk, actor=scheme_staff)
    assert told == 1
    assert not eligibility.check(mentee, scheme, Role.MENTEE).ok

    client.force_login(mentee)
    page = client.get(reverse("onboarding")).content.decode()
    assert "2027.1" in page and 'href="/documents/accept/"' in page

    response = client.post(reverse("documents_accept"), {"accept_terms": "on"})
    assert response.status_code == 302
    acceptance = TermsAcceptance.objects.get(user=mentee, version=draft)
    assert acceptance.accepted_at is not None
    assert eligibility.check(mentee, scheme, Role.MENTEE).ok


def test_publishing_tells_members_on_the_platform_and_by_email(
    mentee, mentor, draft, scheme_staff, django_capture_on_commit_callbacks
):
    # R-SCHEME-4: announced through the platform and by email
    with django_capture_on_commit_callbacks(execute=True):
        services.terms_publish(version_id=draft.pk, actor=scheme_staff)
    notes = Notification.objects.filter(kind="terms_published")
    assert {n.user_id for n in notes} == {mentee.pk, mentor.pk}
    assert all(n.emailed_at for n in notes)
    recipients = {m.to[0] for m in mail.outbox}
    assert recipients == {mentee.email, mentor.email}
    assert "Clause 5.3" in mail.outbox[0].body


def test_a_version_is_published_once(draft, scheme_staff):
    services.terms_publish(version_id=draft.pk, actor=scheme_staff)
    with pytest.raises(ValidationError):
        services.terms_publish(version_id=draft.pk, actor=scheme_staff)


def test_accepting_without_ticking_changes_nothing(client, mentee, draft, scheme_staff):
    services.terms_publish(version_id=draft.pk, actor=scheme_staff)
    client.force_login(mentee)
    response = client.post(reverse("documents_accept"), {})
    assert response.status_code == 200
    assert "You need to accept the terms and conditions" in response.content.decode()
    assert not TermsAcceptance.objects.filter(version=draft).exists()


def test_accepting_activates_an_onboarding_membership(client, documents, scheme, network):
    # R-SCHEME-4: pending -> active once nothing is unmet
    user = factories.UserFactory()
    membership = factories.MembershipFactory(
        user=user, scheme=scheme, network=network, status=SchemeMembership.Status.PENDING
    )
    client.force_login(user)
    data = {f"accept_{k}": "on" for k in ("terms", "code-of-conduct", "privacy-notice")}
    assert client.post(reverse("documents_accept"), data).status_code == 302
    membership.refresh_from_db()
    assert membership.status == SchemeMembership.Status.ACTIVE
    assert Notification.objects.filter(user=user, kind="eligible").exists()


def test_documents_are_readable_by_anyone_from_the_footer(client, documents):
    # R-SAFE-5
    home = client.get(reverse("home")).content.decode()
    for kind in ("terms", "code-of-conduct", "privacy-notice", "complaints-procedure"):
        assert f'href="/documents/{kind}/"' in home
        response = client.get(reverse("document_detail", args=[kind]))
        assert response.status_code == 200
        assert documents[kind].body in response.content.decode()


def test_an_unknown_or_unpublished_document_is_404(client, db):
    assert client.get("/documents/no-such-thing/").status_code == 404
    assert client.get("/documents/terms/").status_code == 404  # nothing published yet


def test_the_page_shows_the_newest_published_version(client, documents):
    factories.TermsVersionFactory(kind="terms", version="2027.1", body="Newer text.")
    factories.TermsVersionFactory(kind="terms", version="2028.1", body="Draft text.", published_at=None)
    body = client.get("/documents/terms/").content.decode()
    assert "Newer text." in body and "Draft text." not in body


def test_only_scheme_staff_publish_a_version(draft, coordinator, safeguarding_lead, mentee):
    # R-SCHEME-4: a coordinator or the Safeguarding Lead may read the documents, never publish them
    for person in (coordinator, safeguarding_lead, mentee):
        with pytest.raises(PermissionDenied):
            services.terms_publish(version_id=draft.pk, actor=person)
    draft.refresh_from_db()
    assert draft.published_at is None
    assert not Notification.objects.filter(kind="terms_published").exists()
