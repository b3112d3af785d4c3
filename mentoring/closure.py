"""Scheme closure (R-SCHEME-3): staff set a close date at least two weeks ahead; every participant is
told once, in the platform and by email; on the date the scheme takes no more requests and its
pairings end."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from matching.models import MentorshipRequest
from mentoring import permissions
from mentoring.models import EndOfPairing, Pairing, Scheme, SchemeClosureNotice, SchemeMembership
from mentoring.shared_version import SharedAnswer
from messaging.services import conversation_close, notify
from safeguarding.audit import audit

NOTICE_DAYS = 14
TOO_SOON = "Set the close date at least 14 days ahead, so members get two weeks' notice."

# Who takes part in a scheme, and so is told it closes.
PARTICIPATING = (
    SchemeMembership.Status.ACTIVE,
    SchemeMembership.Status.PAUSED,
    SchemeMembership.Status.PENDING,
)


def close_date_check(closes_on: datetime.date | None, *, today: datetime.date | None = None) -> None:
    """Refuse a close date less than two weeks away (an empty date, no closure, is fine)."""
    today = today or timezone.localdate()
    if closes_on is not None and closes_on < today + datetime.timedelta(days=NOTICE_DAYS):
        raise ValidationError(TOO_SOON, code="too_soon")


def closing_schemes(*, today: datetime.date | None = None):
    """Schemes whose close date is two weeks away or less and has not passed: their members are told."""
    today = today or timezone.localdate()
    return Scheme.objects.filter(closes_on__gte=today, closes_on__lte=today + datetime.timedelta(days=NOTICE_DAYS))


_close_dates = SharedAnswer("mentoring:any-scheme-close-date", timeout=3600)


def any_close_date() -> bool:
    """Whether any scheme has a close date: asked of the shared cache, so most pages read no table for it."""
    return _close_dates.get(lambda: Scheme.objects.filter(closes_on__isnull=False).exists())


def close_dates_changed(**kwargs) -> None:
    """A scheme was saved: a new answer from now, and again after commit so no process keeps an older one."""
    _close_dates.changed()


def closure_banners_for(user, *, today: datetime.date | None = None) -> list[dict]:
    """What each scheme `user` takes part in says of its closing: from two weeks before, and after."""
    if not any_close_date():
        return []
    today = today or timezone.localdate()
    schemes = Scheme.objects.filter(
        closes_on__lte=today + datetime.timedelta(days=NOTICE_DAYS),
        memberships__user=user,
        memberships__status__in=PARTICIPATING,
    ).distinct()
    return [{"scheme": s, "closes_on": s.closes_on, "closed": s.closes_on <= today} for s in schemes]


def scheme_banners(request) -> dict:
    """Context processor: the closing banners, read only when a page shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"scheme_banners": lambda: closure_banners_for(user)}


@transaction.atomic
def scheme_close_set(*, scheme_id: int, closes_on: datetime.date | None, actor) -> Scheme:
    """Staff set (or clear) a scheme's close date, at least two weeks ahead. Audited."""
    permissions.require(permissions.is_scheme_staff(actor), "Only scheme staff can close a scheme.")
    scheme = Scheme.objects.select_for_update().get(pk=scheme_id)
    if closes_on == scheme.closes_on:
        return scheme
    close_date_check(closes_on)
    previous = scheme.closes_on
    scheme.closes_on = closes_on
    scheme.save(update_fields=["closes_on"])
    audit(
        actor=actor,
        action="scheme.close_date_set",
        obj=scheme,
        closes_on=closes_on.isoformat() if closes_on else None,
        previous=previous.isoformat() if previous else None,
    )
    return scheme


def scheme_closure_notices_send(*, today: datetime.date | None = None) -> int:
    """The daily job: tell every participant of each closing scheme, exactly once. Returns how many were told.

    A notice row per member is written first (the unique constraint keeps one per member, however
    many runs write at once); then each unsent row is marked sent in the same transaction that
    stores the member's notification, whose email the messaging job sends. Of two runs marking
    one row, PostgreSQL makes the second wait and re-check: it finds the row sent. A run that dies
    between rows leaves the rest unsent for the next run. Call it outside a transaction.
    """
    told = 0
    for scheme in closing_schemes(today=today):
        members = (
            SchemeMembership.objects.filter(scheme=scheme, status__in=PARTICIPATING)
            .values_list("user_id", flat=True)
            .distinct()
        )
        SchemeClosureNotice.objects.bulk_create(
            [SchemeClosureNotice(scheme=scheme, member_id=member_id) for member_id in members],
            ignore_conflicts=True,
        )
        unsent = SchemeClosureNotice.objects.filter(scheme=scheme, sent_at__isnull=True)
        for pk in unsent.order_by("pk").values_list("pk", flat=True):
            told += _notice_send(pk, scheme)
    return told


@transaction.atomic
def _notice_send(pk: int, scheme: Scheme) -> int:
    claimed = SchemeClosureNotice.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=timezone.now())
    if not claimed:
        return 0  # another run sent it
    notice = SchemeClosureNotice.objects.select_related("member").get(pk=pk)
    notify(
        notice.member,
        "scheme_closing",
        scheme,
        body=(
            f"{scheme} closes on {scheme.closes_on:%-d %B %Y}. It takes no new requests from that day, "
            "and its pairings end then. Your coordinator can tell you about other schemes."
        ),
        url=reverse("mentoring_home"),
    )
    return 1


def schemes_close(*, today: datetime.date | None = None) -> int:
    """The daily job on the close date: each scheme whose date has come takes no more requests (those
    waiting expire) and its active pairings end with reason "scheme closed", everyone told.
    Safe to run twice. Returns how many pairings ended."""
    today = today or timezone.localdate()
    due = Scheme.objects.filter(closes_on__lte=today).filter(
        Q(is_open=True)
        | Q(pairings__status=Pairing.Status.ACTIVE)
        | Q(requests__status=MentorshipRequest.Status.PENDING)
    )
    ended = 0
    for scheme_id in due.values_list("pk", flat=True).distinct():
        ended += _scheme_close(scheme_id)
    return ended


@transaction.atomic
def _scheme_close(scheme_id: int) -> int:
    scheme = Scheme.objects.select_for_update().get(pk=scheme_id)
    if scheme.is_open:
        scheme.is_open = False
        scheme.save(update_fields=["is_open"])
        audit(actor=None, action="scheme.closed", obj=scheme, closes_on=scheme.closes_on.isoformat())
    now = timezone.now()
    # Requests still waiting for an answer can no longer become pairings.
    waiting = list(MentorshipRequest.objects.pending().filter(scheme=scheme).select_related("mentee", "mentor"))
    MentorshipRequest.objects.filter(pk__in=[r.pk for r in waiting]).update(
        status=MentorshipRequest.Status.EXPIRED, responded_at=now
    )
    for request in waiting:
        notify(
            request.mentee,
            "request_expired",
            request,
            body=f"{scheme} closed on {scheme.closes_on:%-d %B %Y}, so your request to "
            f"{request.mentor.first_name} has ended.",
        )
    pairings = list(
        Pairing.objects.select_for_update()
        .filter(scheme=scheme, status=Pairing.Status.ACTIVE)
        .select_related("mentor", "mentee", "scheme")
    )
    # The scheme ends these pairings, not a person, so pairing_end (which checks who acts) is not the path;
    # the End of Pairing record is written the same way, and the daily feedback job asks both members.
    for pairing in pairings:
        pairing.status = Pairing.Status.ENDED
        pairing.ended_at = now
        pairing.end_reason = Pairing.EndReason.SCHEME_CLOSED
        pairing.save(update_fields=["status", "ended_at", "end_reason"])
        EndOfPairing.objects.create(
            pairing=pairing, ended_by=None, reason=Pairing.EndReason.SCHEME_CLOSED, created_at=now
        )
        conversation_close(pairing_id=pairing.pk)  # read-only, as when a person ends it (issue 8)
        for member in (pairing.mentor, pairing.mentee):
            notify(
                member,
                "pairing_ended_scheme_closed",
                pairing,
                body=f"{scheme} closed on {scheme.closes_on:%-d %B %Y}, so this pairing has ended.",
            )
    return len(pairings)
