"""A version token kept in the shared cache, for data every process keeps a copy of (names, documents).

Reading the token from Redis on every request cost the Find a mentor page a few round trips; a process
now reads it at most every `every` seconds. A change made in this process (`bump`) is seen here at once
and by the other processes within `every` seconds, and again after commit, so no process keeps a copy
read before the change was visible.
"""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import transaction

_all: list[SharedVersion] = []
_local_memos: list[set] = []


def local_memo() -> set:
    """A set a process keeps of facts that, once true, stay true (a scheme's listing is built); emptied with
    the tokens by `forget_all`."""
    memo: set = set()
    _local_memos.append(memo)
    return memo


class SharedVersion:
    def __init__(self, key: str, *, every: float = 1.0):
        self.key, self.every = key, every
        self._token: str | None = None
        self._read_at = 0.0
        _all.append(self)

    def current(self) -> str:
        now = time.monotonic()
        token = self._token
        if token is None or now - self._read_at >= self.every:
            token = cache.get_or_set(self.key, lambda: uuid.uuid4().hex, None)
            self._token, self._read_at = token, now
        return token

    def forget(self) -> None:
        cache.delete(self.key)
        self._token = None

    def bump(self) -> None:
        self.forget()
        transaction.on_commit(self.forget, robust=True)


def forget_key(key: str) -> None:
    """Delete a shared-cache key now, for this process's next read, and again after commit, so no process
    keeps a value it read before the change was visible."""
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key), robust=True)


def forget_all() -> None:
    """Every process-local copy of every token (tests: each test starts from an empty cache)."""
    for version in _all:
        version._token = None
    for memo in _local_memos:
        memo.clear()
