"""DBS data is criminal-offence data: staff and the Safeguarding Lead see it, coordinators never do, on any page of
the admin or the site (R-SAFE-3). Walked as the coordinator of network A, whose own mentor's check was refused."""

import contextlib

from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from safeguarding.models import DBSCheck

CERTIFICATE = "ZZCERT998877"
REASON = "Zz-reason: enhanced, the role supervises apprentices under 18"
# Scheme settings name DBS ("DBS check required for mentors"): configuration, not anyone's DBS data.
SCHEME_PAGES = ("Scheme",)


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_no_page_a_coordinator_opens_carries_dbs_data(client, world):
    check = DBSCheck.objects.filter(user=world.mentor_a).first()
    DBSCheck.objects.filter(pk=check.pk).update(
        status=DBSCheck.Status.REFUSED, certificate_number=CERTIFICATE, level_reason=REASON
    )
    client.force_login(world.coordinator_a)
    pages = [reverse("admin:index"), reverse("notification_list"), reverse("mentoring_home")]
    for model in admin.site._registry:
        pages.append(admin_url(model, "changelist"))
        pages += [admin_url(model, "change", pk) for pk in sorted(world.a.get(model, ()))[:3]]
        with contextlib.suppress(NoReverseMatch):
            pages.append(admin_url(model, "add"))
    leaks, seen = [], 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        seen += 1
        html = response.content.decode()
        markers = [CERTIFICATE, REASON]
        if not any(
            url.startswith(admin_url(m, "changelist")) for m in admin.site._registry if m.__name__ in SCHEME_PAGES
        ):
            markers.append("DBS")
        leaks += [f"{url}: {marker!r}" for marker in markers if marker in html]
    assert seen > 40  # the walk reached the coordinator's pages, so it cannot pass by seeing none
    assert not leaks, leaks


def test_every_dbs_page_answers_403_to_a_coordinator_and_200_to_staff_and_the_lead(client, world):
    check = DBSCheck.objects.filter(user=world.mentor_a).first()
    urls = [admin_url(DBSCheck, "changelist"), admin_url(DBSCheck, "add"), admin_url(DBSCheck, "change", check.pk)]
    for role, status in (("coordinator_a", 403), ("coordinator_b", 403), ("staff", 200), ("safeguarding_lead", 200)):
        client.force_login(world.people[role])
        for url in urls:
            assert client.get(url).status_code == status, f"{url} as {role}"


def test_no_csv_export_a_coordinator_takes_carries_dbs_data(client, world):
    # Issue 11, item 4 (R-COORD-4, R-SAFE-3): "CSV export of what the coordinator may see, never DBS data"
    check = DBSCheck.objects.filter(user=world.mentor_a).first()
    DBSCheck.objects.filter(pk=check.pk).update(
        status=DBSCheck.Status.REFUSED, certificate_number=CERTIFICATE, level_reason=REASON
    )
    client.force_login(world.coordinator_a)
    exported, leaks = 0, []
    for model in admin.site._registry:
        try:
            url = admin_url(model, "export")
        except NoReverseMatch:
            continue
        response = client.post(url, {"format": "0", "resource": "0"})
        if response.status_code != 200:
            continue
        exported += 1
        text = response.content.decode()
        leaks += [f"{model.__name__}: {marker!r}" for marker in (CERTIFICATE, REASON, "DBS", "dbs") if marker in text]
    assert exported >= 8  # members, memberships, pairings, requests, waiting mentees, meetings, feedback, profiles
    assert not leaks, leaks
