"""The coordinator's workbench (R-COORD-2): the admin's home page shows each queue as a count that links to the
admin's list filtered to exactly those rows, and the viewer's own unread notifications.

A coordinator sees the queues of the Local Networks they coordinate, staff the whole scheme. Each count is taken
from the queue's own admin: its `get_queryset` (the one scoping of mentoring/admin_scoping.py) narrowed by the
same list filters and lookups the link's query string asks the changelist for, so a count and the list it
links to cannot disagree, and a queue whose admin the viewer may not open is not shown at all (DBS data, for
one, never is to a coordinator). One query per queue, whatever the number of rows.

It reads across every app, so it sits in `reports`, the top layer; ReportsConfig.ready hooks it into the admin.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin import SimpleListFilter
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from matching.models import MentorProfile, MentorshipRequest, ProfileReport
from mentoring import ending, permissions
from mentoring.models import EndOfPairing, Feedback, LocalNetwork, Pairing, WaitingMentee
from messaging.models import HeldMessage, Notification
from safeguarding.models import Complaint, TrainingEvent

NOTIFICATIONS_SHOWN = 5
REQUESTS_WAIT_DAYS = 7


@dataclass(frozen=True)
class QueueSpec:
    """One queue: the model whose admin lists it, the changelist query that narrows the list to it, and words."""

    key: str
    model: type
    params: dict[str, str]
    title: str
    explanation: str


QUEUES = (
    QueueSpec(
        "profiles_to_approve",
        MentorProfile,
        {"status__exact": MentorProfile.Status.SUBMITTED},
        "Mentor profiles to approve",
        "New or changed profiles; each shows its change since the last approved text.",
    ),
    QueueSpec(
        "reported_profiles",
        ProfileReport,
        {"status__exact": ProfileReport.Status.OPEN},
        "Reported profiles",
        "Reports not yet resolved.",
    ),
    QueueSpec(
        "requests_waiting",
        MentorshipRequest,
        {"pending_over": str(REQUESTS_WAIT_DAYS)},
        f"Requests pending more than {REQUESTS_WAIT_DAYS} days",
        "Mentees still waiting for a mentor's answer.",
    ),
    QueueSpec(
        "unmatched_mentees",
        WaitingMentee,
        {},
        "Unmatched mentees",
        "Longest wait first, with their goals, eligibility and whether a mentor referred them back.",
    ),
    QueueSpec(
        "inactive_pairings",
        Pairing,
        {"activity": "inactive"},
        "Inactive pairings",
        "Running pairings with no meeting for the scheme's inactivity days.",
    ),
    QueueSpec(
        "end_forms_to_read",
        EndOfPairing,
        {"read": "no"},
        "End of Pairing forms to read",
        "Forms nobody has marked read yet.",
    ),
    QueueSpec(
        "low_feedback",
        Feedback,
        {"rating_at_most": str(ending.LOW_RATING)},
        f"Feedback rated {ending.LOW_RATING} or less",
        "Members who rated their pairing poorly.",
    ),
    QueueSpec(
        "held_messages",
        HeldMessage,
        {"decision": HeldMessage.Decision.PENDING},
        "Held messages",
        "Messages held for contact details, waiting for your decision.",
    ),
    QueueSpec(
        "open_complaints",
        Complaint,
        {"open": "yes"},
        "Complaints open",
        "Received or being investigated.",
    ),
    QueueSpec(
        "training_coming_up",
        TrainingEvent,
        {"when": "upcoming"},
        "Training events coming up",
        "Events not yet started.",
    ),
)


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    explanation: str
    count: int
    url: str
    waiting_since: datetime.datetime | None = None  # the unmatched mentees' longest wait: when the first joined

    @property
    def longest_wait_days(self) -> int | None:
        return None if self.waiting_since is None else (timezone.now() - self.waiting_since).days


@dataclass(frozen=True)
class Workbench:
    scope: str  # "the whole scheme" or the networks' names
    queues: list[Queue]
    notifications: list[Notification]
    unread: int


def queue_rows(model_admin, request, params: dict[str, str]):
    """The rows the admin's list shows for `params`: the admin's own (scoped) queryset, narrowed by its list
    filter for each parameter that names one, and by the lookup itself otherwise, as the changelist does."""
    rows = model_admin.get_queryset(request)
    simple_filters = {
        f.parameter_name: f
        for f in model_admin.get_list_filter(request)
        if isinstance(f, type) and issubclass(f, SimpleListFilter)
    }
    for name, value in params.items():
        if name in simple_filters:
            list_filter = simple_filters[name](request, {name: [value]}, model_admin.model, model_admin)
            rows = list_filter.queryset(request, rows)
        else:
            rows = rows.filter(**{name: value})
    return rows


def queue_url(model, params: dict[str, str]) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def queues_for(request) -> list[Queue]:
    """Each queue whose admin the viewer may open, with its count (R-COORD-2); one query per queue."""
    queues = []
    for spec in QUEUES:
        model_admin = admin.site._registry.get(spec.model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            continue
        rows = queue_rows(model_admin, request, spec.params).order_by()
        waiting_since = None
        if spec.model is WaitingMentee:
            figures = rows.aggregate(count=Count("pk"), since=Min("joined_at"))
            count, waiting_since = figures["count"], figures["since"]
        else:
            count = rows.count()
        queues.append(
            Queue(spec.key, spec.title, spec.explanation, count, queue_url(spec.model, spec.params), waiting_since)
        )
    return queues


def workbench_for(request) -> Workbench | None:
    """The viewer's workbench: a coordinator's networks, or the whole scheme for staff; None for anyone else
    (the Safeguarding Lead keeps the stock admin home; a superuser counts as staff)."""
    user = request.user
    if permissions.is_scheme_staff(user):
        scope = "the whole scheme"
    elif permissions.is_coordinator(user):
        networks = LocalNetwork.objects.filter(pk__in=permissions.coordinated_network_ids(user)).order_by("name")
        scope = ", ".join(networks.values_list("name", flat=True)) or "no Local Network yet"
    else:
        return None
    unread = Notification.objects.for_user(user).unread()
    latest = list(unread.order_by("-created_at", "-pk")[:NOTIFICATIONS_SHOWN])
    count = len(latest) if len(latest) < NOTIFICATIONS_SHOWN else unread.count()
    return Workbench(scope=scope, queues=queues_for(request), notifications=latest, unread=count)


def admin_index_with_workbench(index):
    """Wrap the admin site's `index` view so its page carries the viewer's workbench."""

    def index_view(request, extra_context=None):
        context = {**(extra_context or {}), "workbench": workbench_for(request)}
        return index(request, extra_context=context)

    return index_view
