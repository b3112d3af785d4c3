"""Every registered ModelAdmin, walked as the coordinator of network A: nothing of network B anywhere.

R-COORD-1: a coordinator's scope follows the record's own network. A mentor
profile belongs to the network of the mentor's membership, a request and a
pairing to their mentee's membership, a report to the reported profile. The
world (tests/security/world.py) has a member who is a mentee in A and a mentor
in B, and one the other way round; A's coordinator sees each only in their A role.
A new ModelAdmin must be classified in SCOPE below, and the world must hold
rows of it in both networks, or these tests fail and say so.
"""

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse

from tests.security.world import B_MARKER

NETWORK = "network"  # member data: scoped to the coordinator's networks
SHARED = "shared"  # reference data every coordinator may see (schemes, documents, lists)
NEVER = "never"  # coordinators never see it at all (R-SAFE-3: DBS checks are criminal-offence data)

SCOPE = {
    "User": NETWORK,
    "Language": SHARED,
    "Sector": SHARED,
    "ExpertiseArea": SHARED,
    "Scheme": SHARED,
    "TermsVersion": SHARED,
    "LocalNetwork": NETWORK,
    "SchemeMembership": NETWORK,
    "WaitingMentee": NETWORK,
    "TermsAcceptance": NETWORK,
    "MentorProfile": NETWORK,
    "MenteeProfile": NETWORK,
    "MentorshipRequest": NETWORK,
    "Pairing": NETWORK,
    "ProfileReport": NETWORK,
    "ConflictBlock": NETWORK,
    "PairingProposal": NETWORK,
    "RematchRequest": NETWORK,
    "EndOfPairing": NETWORK,  # issue 7: ending
    "Feedback": NETWORK,  # issue 7: feedback
    "Meeting": NETWORK,
    "Agreement": NETWORK,
    "PairingGoal": NETWORK,
    "TrainingRecord": NETWORK,
    "Notification": NETWORK,
    "AuditEvent": NETWORK,
    "DBSCheck": NEVER,
    "LogEntry": NEVER,  # the change history holds DBS history (issue 9, item 6)
    # Issue 9: the catalogue is shared; events and bookings belong to the event's network.
    "TrainingCourse": SHARED,
    "TrainingEvent": NETWORK,
    "TrainingBooking": NETWORK,
    "Complaint": NETWORK,  # the complainant's networks
    "HeldMessage": NETWORK,  # issue 8: the pairing's network (R-MSG-7)
    "SpecialCategoryWarningCount": NEVER,  # issue 8: staff's numbers (R-MSG-4)
    "ConversationAccessLog": NEVER,  # issue 8 (R-MSG-5): staff and the Safeguarding Lead only
    # Registered by Django and allauth.
    "Group": SHARED,
    "EmailAddress": NETWORK,
    "Authenticator": NEVER,  # two-factor secrets
}

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _ in REGISTERED]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def leaked_markers(html: str, world) -> list[str]:
    """Text that only network B's data carries."""
    return [marker for marker in (B_MARKER, world.network_b.name) if marker in html]


def b_pks(world, model) -> set:
    return world.b.get(model, set())


def related_leaks(world, queryset) -> set:
    # A proxy's rows (WaitingMentee) are its concrete model's rows (SchemeMembership) too.
    model = queryset.model
    pks = set(queryset.values_list("pk", flat=True))
    return pks & (b_pks(world, model) | b_pks(world, model._meta.concrete_model))


def test_every_registered_model_admin_is_classified_and_populated(world):
    unknown = [label for (model, _), label in zip(REGISTERED, MODEL_IDS, strict=True) if model.__name__ not in SCOPE]
    assert not unknown, f"classify {unknown} in SCOPE in tests/security/test_admin_scoping.py"
    empty = [
        model._meta.label
        for model, _ in REGISTERED
        if SCOPE[model.__name__] == NETWORK and not (world.a.get(model) and world.b.get(model))
    ]
    assert not empty, f"build rows of {empty} in both networks in tests/security/world.py"


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_a_coordinator_sees_nothing_of_another_network_in_a_changelist(client, world, model, model_admin):
    # R-COORD-1 (changelist, its filters and its search)
    client.force_login(world.coordinator_a)
    response = client.get(admin_url(model, "changelist"))
    if SCOPE[model.__name__] == NEVER:
        assert response.status_code == 403
        return
    if response.status_code == 403:
        return  # this role may not list it at all
    assert response.status_code == 200
    cl = response.context["cl"]
    leaks = []
    shown = {obj.pk for obj in cl.result_list}
    if shown & b_pks(world, model):
        leaks.append(f"rows {sorted(shown & b_pks(world, model))} of network B listed")
    if SCOPE[model.__name__] == NETWORK and not shown & world.a[model]:
        leaks.append("none of the coordinator's own rows listed")  # so the check above cannot pass by hiding all
    leaks += [f"{marker!r} on the page" for marker in leaked_markers(response.content.decode(), world)]
    for spec in cl.filter_specs:
        field = getattr(spec, "field", None)
        if field is not None and field.is_relation:
            offered = {str(pk) for pk, _ in getattr(spec, "lookup_choices", [])}
            leaked = offered & {str(pk) for pk in b_pks(world, field.related_model)}
            if leaked:
                leaks.append(f"the {spec.title} filter offers network B's {sorted(leaked)}")
    if model_admin.get_search_fields(response.wsgi_request):
        found = client.get(admin_url(model, "changelist"), {"q": B_MARKER}).context["cl"].result_list
        if {obj.pk for obj in found} & b_pks(world, model):
            leaks.append("a search finds network B's rows")
    assert not leaks, f"{model.__name__} list: {leaks}"


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_another_networks_objects_are_not_found(client, world, model, model_admin):
    # R-COORD-1: change, history and "view on site" all answer 404 for another network's row
    client.force_login(world.coordinator_a)
    listed = client.get(admin_url(model, "changelist")).status_code
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    allowed = {404} if listed == 200 else {403, 404}
    answers = []
    for pk in sorted(b_pks(world, model)):
        for view in ("change", "history"):
            status = client.get(admin_url(model, view, pk)).status_code
            if status not in allowed:
                answers.append(f"{view} of {pk}: {status}")
        # A view-only role gets 403 for any id on POST, which tells nothing either.
        posted = client.post(admin_url(model, "change", pk), {}).status_code
        if posted not in {403, 404}:
            answers.append(f"POST change of {pk}: {posted}")
        view_on_site = client.get(reverse("admin:view_on_site", args=[content_type.pk, pk])).status_code
        if view_on_site != 404:
            answers.append(f'"view on site" of {pk}: {view_on_site}')
    assert not answers, f"{model.__name__} of network B: {answers}"


def relation_fields(model):
    return [f for f in model._meta.get_fields() if f.is_relation and f.concrete and (f.many_to_one or f.many_to_many)]


AUTOCOMPLETE_CASES = [
    (model, f)
    for model, _ in REGISTERED
    for f in relation_fields(model)
    if f.remote_field.model in admin.site._registry
    and admin.site._registry[f.remote_field.model].search_fields
    and not model._meta.proxy
]


@pytest.mark.parametrize(
    ("model", "field"), AUTOCOMPLETE_CASES, ids=[f"{m._meta.label}.{f.name}" for m, f in AUTOCOMPLETE_CASES]
)
def test_autocomplete_offers_nothing_of_another_network(client, world, model, field):
    client.force_login(world.coordinator_a)
    for term in ("", B_MARKER, world.network_b.name):
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field.name,
                "term": term,
            },
        )
        if response.status_code in (403, 404):
            continue
        assert response.status_code == 200
        offered = {str(result["id"]) for result in response.json()["results"]}
        leaked = offered & {str(pk) for pk in b_pks(world, field.related_model)}
        assert not leaked, f"autocomplete for {model.__name__}.{field.name} offers network B's {leaked}"


def form_leaks(world, response) -> list[str]:
    """Choices and inline rows of network B in an admin add or change form."""
    found = []
    forms = [("", response.context["adminform"].form)]
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        rows = {f.instance.pk for f in formset.forms if f.instance.pk is not None}
        leaked = rows & b_pks(world, formset.model)
        if leaked:
            found.append(f"inline {formset.model.__name__} rows {sorted(leaked)}")
        forms += [(f"inline {formset.model.__name__} ", form) for form in [*formset.forms, formset.empty_form]]
    for where, form in forms:
        for name, form_field in form.fields.items():
            queryset = getattr(form_field, "queryset", None)
            if isinstance(queryset, models.QuerySet):
                leaked = related_leaks(world, queryset)
                if leaked:
                    found.append(f"{where}{name} offers {queryset.model.__name__} {sorted(leaked)}")
    html = response.content.decode()
    found += [f"text {marker!r}" for marker in leaked_markers(html, world)]
    return found


def sample(pks, limit=4) -> list:
    ordered = sorted(pks)
    return ordered[:limit]


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=MODEL_IDS)
def test_admin_forms_offer_nothing_of_another_network(client, world, model, model_admin):
    # R-COORD-1: select options, M2M lists and inlines on the add page and on A's own change pages
    client.force_login(world.coordinator_a)
    pages = [admin_url(model, "add")]
    own = set(world.a.get(model, set()))
    if model.__name__ == "User":
        own_sample = [world.dual.pk, world.dual2.pk, *sample(own - {world.dual.pk, world.dual2.pk}, 2)]
    else:
        own_sample = sample(own)
    pages += [admin_url(model, "change", pk) for pk in own_sample]
    for url in pages:
        response = client.get(url)
        if response.status_code in (403, 404) or "adminform" not in (response.context or {}):
            continue
        assert response.status_code == 200, url
        leaks = form_leaks(world, response)
        assert not leaks, f"{url} shows network B: {leaks}"


def test_a_member_in_two_networks_is_seen_by_each_coordinator_in_their_own_role_only(client, world):
    # R-COORD-1: "a mentee in London and a mentor in the North West is seen by the London coordinator as a mentee only"
    client.force_login(world.coordinator_a)
    page = client.get(admin_url(type(world.dual), "change", world.dual.pk)).content.decode()
    assert world.network_b.name not in page
    assert client.get(admin_url(type(world.profile_dual), "change", world.profile_dual.pk)).status_code == 404
    assert (
        client.get(admin_url(type(world.request_b_from_dual2), "change", world.request_b_from_dual2.pk)).status_code
        == 404
    )


def test_another_networks_coordinator_sees_the_mirror_image(client, world):
    # The same rules from B's side: B's coordinator sees dual as a mentor and not A's request.
    client.force_login(world.coordinator_b)
    assert client.get(admin_url(type(world.profile_dual), "change", world.profile_dual.pk)).status_code == 200
    assert client.get(admin_url(type(world.request_a), "change", world.request_a.pk)).status_code == 404
    assert client.get(admin_url(type(world.pairing_a_dual), "change", world.pairing_a_dual.pk)).status_code == 404
