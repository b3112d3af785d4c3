"""Tables derived from the records and kept in line by every save (the mentor listing, the eligible memberships):
the refreshes a block of saves asks for, noted and run once when the block ends.

Seeding, imports and test factories make many saves per member; each would refresh that member again. Inside
`Batch.block()` a derived table's `refresh` and `refresh_all` only note what they were asked, and the block
runs the refreshes together when it ends without an error (an error leaves the table to the rolled-back
transaction and the scheduled job). Nested blocks join the outermost one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from mentoring.models import Scheme

# Saves of a member's row that change nothing a derived table reads: a sign-in saves last_login.
IRRELEVANT_FIELDS = frozenset({"last_login", "password"})


def members_saved(sender, instance, members_of: dict, update_fields=None) -> list[int]:
    """The user ids a save (or delete) of `instance` concerns: the member themself for a user's row, else
    `members_of[sender](instance)`; nobody for a sign-in."""
    if update_fields and set(update_fields) <= IRRELEVANT_FIELDS:
        return []
    return [instance.pk] if sender is get_user_model() else members_of[sender](instance)


@dataclass
class Pending:
    member_ids: set[int] = field(default_factory=set)
    scheme_ids: set[int] = field(default_factory=set)
    every_scheme: bool = False


class Batch:
    """The refreshes of one derived table asked for inside the open block, if any.

    `refresh_members(ids)` and `refresh_schemes(schemes or None for every scheme)` are the table's own
    refreshes, called at the block's end.
    """

    def __init__(self, name: str, *, refresh_members: Callable, refresh_schemes: Callable):
        self._pending: ContextVar[Pending | None] = ContextVar(name, default=None)
        self._refresh_members = refresh_members
        self._refresh_schemes = refresh_schemes

    def open(self) -> bool:
        return self._pending.get() is not None

    def noted_members(self, member_ids: Iterable[int]) -> bool:
        """Inside a block, note these members for its end and say so; outside, False (refresh now)."""
        if (pending := self._pending.get()) is None:
            return False
        pending.member_ids.update(member_ids)
        return True

    def noted_schemes(self, schemes: Iterable[Scheme] | None) -> bool:
        """The same for whole schemes (None: every scheme)."""
        if (pending := self._pending.get()) is None:
            return False
        if schemes is None:
            pending.every_scheme = True
        else:
            pending.scheme_ids.update(scheme.pk for scheme in schemes)
        return True

    @contextmanager
    def block(self) -> Iterator[None]:
        if self._pending.get() is not None:
            yield
            return
        pending = Pending()
        token = self._pending.set(pending)
        try:
            yield
        finally:
            self._pending.reset(token)
        if pending.every_scheme:
            self._refresh_schemes(None)
            return
        if pending.scheme_ids:
            self._refresh_schemes(Scheme.objects.filter(pk__in=pending.scheme_ids).order_by("pk"))
        self._refresh_members(pending.member_ids)
