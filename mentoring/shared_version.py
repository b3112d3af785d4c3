"""A version token kept in the shared cache, for data every process keeps a copy of (names, documents).

Reading the token from Redis on every request cost the Find a mentor page a few round trips; a process
now reads it at most every `every` seconds. A change made in this process (`bump`) is seen here at once
and by the other processes within `every` seconds, and again after commit, so no process keeps a copy
read before the change was visible.
"""

from __future__ import annotations

import threading
import time
import uuid

from django.core.cache import cache
from django.db import transaction

_all: list[SharedVersion] = []
_local_memos: list[set | dict] = []


def local_memo() -> set:
    """A set a process keeps of facts that, once true, stay true (a scheme's listing is built); emptied with
    the tokens by `forget_all`, as are the answers `SharedAnswer` keeps."""
    memo: set = set()
    _local_memos.append(memo)
    return memo


class SharedVersion:
    def __init__(self, key: str, *, every: float = 1.0):
        self.key, self.every = key, every
        self._token: str | None = None
        self._read_at = 0.0
        self._forgotten = 0  # how many times forget ran: a read that straddles one keeps no copy
        self._lock = threading.Lock()
        _all.append(self)

    def current(self) -> str:
        now = time.monotonic()
        token = self._token
        if token is None or now - self._read_at >= self.every:
            forgotten = self._forgotten
            token = cache.get_or_set(self.key, lambda: uuid.uuid4().hex, None)
            with self._lock:
                # A forget in another thread meanwhile: the token read may be the one it replaced, and a
                # copy kept now would outlive the forget for `every` seconds.
                if forgotten == self._forgotten:
                    self._token, self._read_at = token, now
        return token

    def forget(self) -> None:
        cache.delete(self.key)  # first: a read that got the old token began before the count below moved
        with self._lock:
            self._forgotten += 1
            self._token = None

    def bump(self) -> None:
        self.forget()
        transaction.on_commit(self.forget, robust=True)


class SharedAnswer:
    """Answers every process reads from the shared cache (one per `part`, such as a scheme id), stored under
    a version token. A change replaces the token instead of deleting the answer: a request that read the
    database just before the change committed stores its old answer under the old token, which nobody reads
    any more. (Deleting the key let that late write stand for the whole timeout.)

    A process also keeps the last answer it read with its token, and answers from it while the token is the
    same: the token is read at most every second, so a page asks Redis nothing, and an answer is as fresh as
    the token (a change here at once, in other processes within the second), as before."""

    def __init__(self, key: str, *, timeout: int):
        self.key, self.timeout = key, timeout
        self._versions: dict[str, SharedVersion] = {}
        self._known: dict[str, tuple[str, object]] = {}  # part -> (token, answer), in this process
        _local_memos.append(self._known)

    def _version(self, part: str) -> SharedVersion:
        version = self._versions.get(part)
        if version is None:
            version = self._versions.setdefault(part, SharedVersion(f"{self.key}:{part}:version"))
        return version

    def get(self, compute, part: object = ""):
        part = str(part)
        token = self._version(part).current()
        held = self._known.get(part)
        if held is not None and held[0] == token:
            return held[1]
        key = f"{self.key}:{part}:{token}"
        known = cache.get(key)
        if known is None:
            known = compute()
            cache.set(key, known, self.timeout)
        self._known[part] = (token, known)
        return known

    def changed(self, part: object = "") -> None:
        """The answer changed (or will, when this transaction commits)."""
        self._version(str(part)).bump()


def forget_all() -> None:
    """Every process-local copy of every token (tests: each test starts from an empty cache)."""
    for version in _all:
        version._token = None
    for memo in _local_memos:
        memo.clear()
