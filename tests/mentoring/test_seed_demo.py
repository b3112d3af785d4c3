from django.contrib.auth import get_user_model
from django.core.management import call_command

from mentoring.models import LocalNetwork, Role, Scheme, SchemeMembership
from safeguarding import eligibility


def test_seed_demo_is_safe_to_run_twice(db):
    call_command("seed_demo", verbosity=0)
    counts = (get_user_model().objects.count(), Scheme.objects.count(), SchemeMembership.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (get_user_model().objects.count(), Scheme.objects.count(), SchemeMembership.objects.count()) == counts
    assert Scheme.objects.count() == 2
    assert LocalNetwork.objects.count() == 3


def test_the_demo_logins_are_as_the_readme_says(client, db):
    call_command("seed_demo", verbosity=0)
    users = get_user_model().objects
    career = Scheme.objects.get(slug="career")
    assert eligibility.check(users.get(email="mentee@example.org"), career, Role.MENTEE).ok
    assert eligibility.check(users.get(email="mentor@example.org"), career, Role.MENTOR).ok
    new_mentor = users.get(email="newmentor@example.org")
    registration = Scheme.objects.get(slug="professional-registration")
    assert not eligibility.check(new_mentor, registration, Role.MENTOR).ok
    for email in ("coordinator@example.org", "staff@example.org", "safeguarding@example.org"):
        assert users.get(email=email).is_staff
    assert client.login(email="mentee@example.org", password="mentoring-demo-2026")
