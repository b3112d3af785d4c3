"""Django's Redis cache, with one connection pool (and one client) per process instead of one per request.

Django keeps a cache object per async context (`caches` is context-local), and its Redis backend makes a
connection pool per cache object. Under ASGI every request runs in a new context, so every request opened a
new TCP connection to Redis (and built a new client, with its 400-entry table of reply handlers), and the
connections were left for the garbage collector. Measured on Find a mentor with one uvicorn worker: 5% of
the request's time went to connecting. redis-py's pools and clients are thread-safe, and a pool notices a
fork (it checks its pid), so one per process is safe.
"""

from __future__ import annotations

import threading

from django.core.cache.backends import redis as django_redis

_lock = threading.Lock()
_shared: dict[str, tuple] = {}  # server URL and options -> (pool, client)


class SharedPoolClient(django_redis.RedisCacheClient):
    def _shared(self, write: bool) -> tuple:
        index = self._get_connection_pool_index(write)
        key = f"{self._servers[index]} {sorted(self._pool_options.items(), key=lambda item: item[0])!r}"
        found = _shared.get(key)
        if found is None:
            with _lock:
                found = _shared.get(key)
                if found is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    found = _shared[key] = (pool, self._client(connection_pool=pool))
        return found

    def _get_connection_pool(self, write):
        return self._shared(write)[0]

    def get_client(self, key=None, *, write=False):
        return self._shared(write)[1]


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolClient
