"""The Redis cache keeps one connection pool per process (mentoring/cache.py): Django makes a cache object
per request under ASGI, and its stock backend opened a new Redis connection for each."""

import contextvars
import uuid

import pytest
import redis

from mentoring.cache import RedisCache
from tests.conftest import services_required
from tests.messaging.test_realtime_redis import REDIS_URL

pytestmark = pytest.mark.services


@pytest.fixture
def url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as error:
        if services_required():
            pytest.fail(f"Redis at {REDIS_URL} is not answering: {error}")
        pytest.skip(f"Redis at {REDIS_URL} is not answering; CI runs this test")
    return REDIS_URL


def test_cache_objects_of_different_requests_share_one_pool_and_one_connection(url):
    def a_request():  # as Django does under ASGI: a new cache object in each request's context
        cache = RedisCache(url, {})
        key = f"test:{uuid.uuid4().hex}"
        cache.set(key, 41)
        assert cache.get(key) == 41
        cache.delete(key)
        return cache._cache.get_client(write=True)

    clients = [contextvars.copy_context().run(a_request) for _ in range(5)]
    assert all(client is clients[0] for client in clients)
    pool = clients[0].connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


def test_a_cache_with_other_options_gets_its_own_pool(url):
    plain = RedisCache(url, {})._cache.get_client()
    other = RedisCache(url, {"OPTIONS": {"socket_timeout": 5}})._cache.get_client()
    assert plain is not other
    assert other.connection_pool.connection_kwargs["socket_timeout"] == 5
