"""The Redis cache keeps one connection pool per process (mentoring/cache.py): Django makes a cache object
per request under ASGI, and its stock backend opened a new Redis connection for each."""

import contextvars
import uuid

import pytest

from mentoring.cache import RedisCache
from tests.messaging.test_realtime_redis import redis_url  # noqa: F401 (a fixture: Redis answers, or skip)

pytestmark = pytest.mark.services


def test_cache_objects_of_different_requests_share_one_pool_and_one_connection(redis_url):  # noqa: F811
    def a_request():  # as Django does under ASGI: a new cache object in each request's context
        cache = RedisCache(redis_url, {})
        key = f"test:{uuid.uuid4().hex}"
        cache.set(key, 41)
        assert cache.get(key) == 41
        cache.delete(key)
        return cache._cache.get_client(write=True)

    clients = [contextvars.copy_context().run(a_request) for _ in range(5)]
    assert all(client is clients[0] for client in clients)
    pool = clients[0].connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


def test_a_cache_with_other_options_gets_its_own_pool(redis_url):  # noqa: F811
    plain = RedisCache(redis_url, {})._cache.get_client()
    other = RedisCache(redis_url, {"OPTIONS": {"socket_timeout": 5}})._cache.get_client()
    assert plain is not other
    assert other.connection_pool.connection_kwargs["socket_timeout"] == 5
