"""Every admin action of every ModelAdmin, tried as every role: only the roles allowed succeed (R-COORD-1, R-SAFE-3).

A role that may only view gets 403 or "No action selected", and nothing in the
database changes. ACTION_ROLES says who may run what; a new action without an
entry fails the suite. Django's delete_selected is allowed to no one: nothing is
deleted from the admin.
"""

import pytest
from django.contrib import admin
from django.core import mail
from django.db import transaction
from django.test import RequestFactory
from django.urls import URLResolver, reverse
from django.utils import timezone

from matching.models import MentorProfile
from mentoring.models import DocumentKind, TermsVersion
from safeguarding.models import DBSCheck

ROLES = ("coordinator_a", "staff", "safeguarding_lead", "member")

# (model class name, action name) -> the roles that may run it.
ACTION_ROLES = {
    ("TermsVersion", "publish"): {"staff"},
    ("MentorProfile", "approve"): {"coordinator_a", "staff"},
    ("MentorProfile", "request_changes"): {"coordinator_a", "staff"},
    ("Scheme", "cohort_match"): {"coordinator_a", "staff"},
    # Staff help a member by sending allauth's reset email; nobody sets another person's password.
    ("User", "send_password_reset"): {"staff"},
    # allauth's own: a superuser's tool only.
    ("EmailAddress", "make_verified"): set(),
    # Issue 8 (R-MSG-7): the pairing's coordinators and staff decide on a held message.
    ("HeldMessage", "release"): {"coordinator_a", "staff"},
    ("HeldMessage", "reject"): {"coordinator_a", "staff"},
    # Issue 9: the coordinator of the event's network marks attendance; only staff withdraw a mentor whose DBS
    # check was refused (the Safeguarding Lead sees the check but does not withdraw; R-SAFE-3, R-ELIG-4).
    ("TrainingBooking", "mark_attended"): {"coordinator_a", "staff"},
    ("DBSCheck", "withdraw_mentor"): {"staff"},
    # Issue 11 (R-COORD-2): the pairing's coordinators and staff mark End of Pairing forms read.
    ("EndOfPairing", "mark_read"): {"coordinator_a", "staff"},
    # Issue 11: the coordinators of the mentee's network and staff withdraw a proposed pairing.
    ("PairingProposal", "withdraw"): {"coordinator_a", "staff"},
    # Issue 11, item 4 (R-COORD-4): coordinators and staff write to selected members; only staff withdraw
    # memberships (as on the one-membership page). Both open a form first: see FORM_ACTIONS.
    ("User", "send_message"): {"coordinator_a", "staff"},
    ("SchemeMembership", "send_message"): {"coordinator_a", "staff"},
    ("SchemeMembership", "withdraw_selected"): {"staff"},
}
# Actions that answer with a form for the selected rows (their "apply" post acts): opening it is running them.
FORM_ACTIONS = {"send_message", "withdraw_selected"}
NOBODY = frozenset()

ACTIONS = sorted(
    (
        (model, model_admin, name, func)
        for model, model_admin in admin.site._registry.items()
        for func, name, _ in model_admin._get_base_actions()
    ),
    key=lambda case: (case[0]._meta.label, case[2]),
)
ACTION_IDS = [f"{model._meta.label}.{name}" for model, _, name, _ in ACTIONS]


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def expected_roles(model, name):
    if name == "delete_selected":
        return NOBODY
    return ACTION_ROLES.get((model.__name__, name))


def target(world, model, name):
    """The row the action is tried on: one the coordinator of A may see."""
    if name == "publish":
        return TermsVersion.objects.create(
            kind=DocumentKind.PRIVACY_NOTICE, version="2027.1", title="Privacy notice", body="New text."
        )
    if model is DBSCheck:
        # Only a refused check's mentor is withdrawn: mentor_a's check, refused.
        return DBSCheck.objects.create(
            user=world.mentor_a,
            level_reason="Basic.",
            status=DBSCheck.Status.REFUSED,
            requested_on=timezone.localdate(),
        )
    if model is MentorProfile:
        profile = world.profile_submitted_mentor_a
        # Asking for changes sends the coordinator's note: a request without one is refused.
        MentorProfile.objects.filter(pk=profile.pk).update(review_note="Please take the logo out.")
        return profile
    own = sorted(world.a.get(model, ()))
    return model._default_manager.get(pk=own[0]) if own else model._default_manager.order_by("pk").first()


def fingerprint(obj) -> tuple:
    """The target row as stored, and how many rows each registered model has."""
    row = type(obj)._default_manager.filter(pk=obj.pk).values().first()
    counts = tuple(model._default_manager.count() for model in admin.site._registry)
    return row, counts


def changes(before, after) -> str:
    (row_before, counts_before), (row_after, counts_after) = before, after
    fields = [k for k in row_before or {} if (row_after or {}).get(k) != row_before[k]]
    models = [m.__name__ for m, b, a in zip(admin.site._registry, counts_before, counts_after, strict=True) if a != b]
    return f"fields {fields} and row counts of {models}"


def offered(model_admin, name, user) -> bool:
    request = RequestFactory().get("/admin/")
    request.user = user
    return name in model_admin.get_actions(request)


def person(world, role):
    return world.mentee_a if role == "member" else world.people[role]


def test_every_admin_action_has_a_row_in_the_role_table():
    missing = [
        label
        for (model, _, name, _), label in zip(ACTIONS, ACTION_IDS, strict=True)
        if expected_roles(model, name) is None
    ]
    assert not missing, f"add {missing} to ACTION_ROLES in tests/security/test_admin_actions.py"


OUR_APPS = ("accounts", "mentoring", "matching", "messaging", "safeguarding")
OUR_ACTIONS = [case for case in ACTIONS if case[3].__module__.split(".")[0] in OUR_APPS]


@pytest.mark.parametrize(
    ("model", "model_admin", "name", "func"), OUR_ACTIONS, ids=[f"{m._meta.label}.{n}" for m, _, n, _ in OUR_ACTIONS]
)
def test_every_admin_action_declares_the_permission_it_needs(model, model_admin, name, func):
    # Issue 6, 1: @admin.action(permissions=[...]) with the matching has_<name>_permission
    permissions = getattr(func, "allowed_permissions", ())
    assert permissions, f"{model.__name__}.{name} declares no permissions"
    for permission in permissions:
        assert hasattr(model_admin, f"has_{permission}_permission"), f"no has_{permission}_permission"


@pytest.mark.parametrize(("model", "model_admin", "name", "func"), ACTIONS, ids=ACTION_IDS)
def test_only_the_roles_allowed_can_run_an_action(client, world, model, model_admin, name, func):
    allowed = expected_roles(model, name)
    if allowed is None:
        pytest.fail(f"add ({model.__name__!r}, {name!r}) to ACTION_ROLES")
    outcomes = {}
    for role in ROLES:
        if name == "delete_selected" and not offered(model_admin, name, person(world, role)):
            # Django refuses an action it does not offer before anything runs; rendering the list
            # again for every model and role would only slow the suite.
            outcomes[role] = False
            continue
        with transaction.atomic():
            obj = target(world, model, name)
            client.force_login(person(world, role))  # before the fingerprint: signing in sets last_login
            before = fingerprint(obj)
            emails_before = len(mail.outbox)
            response = client.post(changelist(model), {"action": name, "_selected_action": [obj.pk], "index": "0"})
            after = fingerprint(obj)
            sent_email = len(mail.outbox) > emails_before
            transaction.set_rollback(True)
        assert response.status_code < 500, f"{role}: {response.status_code}"
        opened_a_page = response.status_code == 302 and name in ("cohort_match",) and "cohort" in response["Location"]
        opened_a_page |= name in FORM_ACTIONS and response.status_code == 200 and b'name="apply"' in response.content
        outcomes[role] = (before != after) or opened_a_page or sent_email
        if role not in allowed:
            assert before == after, f"{role} changed {changes(before, after)} with {model.__name__}.{name}"
            assert not sent_email, f"{role} sent email with {model.__name__}.{name}"
    ran = {role for role, succeeded in outcomes.items() if succeeded}
    assert ran == set(allowed), f"{model.__name__}.{name} ran for {sorted(ran)}; only {sorted(allowed)} may run it"


def test_a_coordinator_cannot_act_on_another_networks_rows_even_across_all(client, world):
    # R-COORD-1: "select all" acts on the coordinator's own rows only
    client.force_login(world.coordinator_a)
    b_profiles = MentorProfile.objects.filter(pk__in=world.b[MentorProfile])
    before = list(b_profiles.values("pk", "status", "review_note", "reviewed_by"))
    for name in ("approve", "request_changes"):
        client.post(
            changelist(MentorProfile),
            {"action": name, "_selected_action": sorted(world.b[MentorProfile]), "index": "0"},
        )
        client.post(changelist(MentorProfile), {"action": name, "select_across": "1", "index": "0"})
    assert list(b_profiles.values("pk", "status", "review_note", "reviewed_by")) == before


GARBAGE_IDS = ("abc", "99999999999999999999999", str(2**63), str(2**31), "-1", "1.5", "1 OR 1=1", "")


@pytest.mark.parametrize(("model", "model_admin", "name", "func"), ACTIONS, ids=ACTION_IDS)
def test_a_garbage_selection_gets_a_message_not_a_500(quiet_client, world, model, model_admin, name, func):
    # Issue 6, 4: a garbage _selected_action is a 4xx or a friendly message
    if not offered(model_admin, name, world.superuser):
        return  # not offered to anyone: the list ignores it (see the role test above)
    quiet_client.force_login(world.superuser)
    failed = {}
    for garbage in GARBAGE_IDS:
        response = quiet_client.post(changelist(model), {"action": name, "_selected_action": [garbage], "index": "0"})
        if response.status_code >= 500:
            failed[garbage] = response.status_code
    assert not failed, f"_selected_action values that gave a 500: {sorted(failed)}"


def admin_views_named(fragment: str) -> list[str]:
    """Names of the admin's URL patterns that contain `fragment` (the cohort view may move between apps)."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif pattern.name and fragment in pattern.name:
                yield pattern.name

    return list(walk(admin.site.get_urls()))


def test_the_cohort_page_rechecks_the_role_on_get_and_post(client, world):
    # Issue 6, 1: the admin's own views re-check permission on POST, not only the button that leads there
    (name,) = admin_views_named("cohort")
    url = reverse(f"admin:{name}", args=[world.scheme.pk])
    for role, allowed in (("coordinator_a", True), ("staff", True), ("safeguarding_lead", False), ("member", False)):
        client.force_login(person(world, role))
        got, posted = client.get(url), client.post(url, {"token": "forged"})
        if allowed:
            assert got.status_code == 200, role
        else:
            assert got.status_code in (302, 403) and posted.status_code in (302, 403), role
            if got.status_code == 302:
                assert "login" in got["Location"]


def test_the_end_and_withdraw_pages_recheck_the_role_on_get_and_post(client, world):
    # Issue 7 (R-PAIR-5, R-PAIR-7): coordinators of the network and staff end a pairing; only staff withdraw
    end = reverse("admin:mentoring_pairing_end", args=[world.pairing_a_dual.pk])
    membership = world.mentee_a.memberships.get(scheme=world.scheme)
    withdraw = reverse("admin:mentoring_schememembership_withdraw", args=[membership.pk])
    expected = {
        end: {"coordinator_a": 200, "staff": 200, "safeguarding_lead": 403, "member": 302, "coordinator_b": 404},
        withdraw: {"coordinator_a": 403, "staff": 200, "safeguarding_lead": 403, "member": 302, "coordinator_b": 403},
    }
    for url, by_role in expected.items():
        for role, status in by_role.items():
            client.force_login(world.mentee_a if role == "member" else world.people[role])
            assert client.get(url).status_code == status, f"GET {url} as {role}"
            if status != 200:
                assert client.post(url, {"reason": "other"}).status_code == status, f"POST {url} as {role}"
    assert type(world.pairing_a_dual).objects.get(pk=world.pairing_a_dual.pk).status == "active"
    assert type(membership).objects.get(pk=membership.pk).status == membership.status
