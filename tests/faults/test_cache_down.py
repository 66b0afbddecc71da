"""The Redis cache with Redis down: an empty cache that answers at once, never an error."""

from __future__ import annotations

import socket
import time

import pytest

from prm.cache import ResilientRedisCache


@pytest.fixture
def dead_redis_url():
    """A port nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_a_refused_redis_is_a_miss_and_a_write_is_a_no_op(dead_redis_url):
    cache = ResilientRedisCache(dead_redis_url, {"KEY_PREFIX": "t"})
    started = time.monotonic()
    assert cache.get("rates", "fallback") == "fallback"
    cache.set("rates", {"EUR": 1})
    assert cache.add("lock", True) is True  # allauth's rate-limit lock must not spin
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("rates", lambda: {"EUR": 2}) == {"EUR": 2}
    assert cache.has_key("rates") is False
    assert cache.delete("rates") is False
    cache.set_many({"a": 1})
    cache.delete_many(["a"])
    with pytest.raises(ValueError):
        cache.incr("hits")
    assert time.monotonic() - started < 1


def test_after_a_failure_redis_is_skipped_until_the_breaker_closes(dead_redis_url, monkeypatch):
    cache = ResilientRedisCache(dead_redis_url, {"OPTIONS": {"breaker_seconds": 30}})
    assert cache.get("x") is None
    assert cache.breaker.is_open

    def unreachable(*args, **kwargs):
        raise AssertionError("Redis was asked while the breaker is open")

    monkeypatch.setattr(cache._cache, "get", unreachable)
    assert cache.get("x", 5) == 5

    cache.breaker.reset()
    with pytest.raises(AssertionError):
        cache.get("x")


def test_a_redis_that_does_not_answer_costs_one_short_timeout(monkeypatch):
    """A listener that accepts and never replies (a hung Redis): the socket timeout ends the
    call, then the breaker skips Redis."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cache = ResilientRedisCache(f"redis://127.0.0.1:{port}/0", {})
        started = time.monotonic()
        assert cache.get("x", "miss") == "miss"
        assert time.monotonic() - started < 1.5
        started = time.monotonic()
        for _ in range(20):
            assert cache.get("x", "miss") == "miss"
        assert time.monotonic() - started < 0.1
