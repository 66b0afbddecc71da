"""A Redis cache that a stopped Redis can't take down, and the circuit breaker it shares with
``prm.tasks``.

When Redis refuses connections or stops answering, pages must keep working: login rate limits,
currency rates and the like are a cache, not a source of truth. ``ResilientRedisCache`` behaves
like Django's ``DummyCache`` while Redis is unreachable (a read is a miss, a write is a no-op),
with short socket timeouts, and after a failure skips Redis altogether for a few seconds so that
a Redis that hangs (instead of refusing) costs one timeout per process, not one per call.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

import redis
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

#: What an unreachable Redis raises (refused, reset, timed out, DNS); not a wrong command.
CONNECTION_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class CircuitBreaker:
    """Open for ``seconds`` after a failure: callers skip the service while it is open."""

    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._open_until

    def trip(self, exc: BaseException | str) -> None:
        with self._lock:
            was_open = self.is_open
            self._open_until = time.monotonic() + self.seconds
        if not was_open:
            log.warning("%s unavailable (%s); skipped for %g s", self.name, exc, self.seconds)

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


def _guarded(fallback):
    """Run the cache method unless the breaker is open; a connection failure trips the breaker
    and returns ``fallback(*args, **kwargs)`` (what ``DummyCache`` would answer)."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if self.breaker.is_open:
                return fallback(*args, **kwargs)
            try:
                return method(self, *args, **kwargs)
            except CONNECTION_ERRORS as exc:
                self.breaker.trip(exc)
                return fallback(*args, **kwargs)

        return wrapper

    return decorate


def _missing_key(key, *args, **kwargs):
    raise ValueError(f"Key '{key}' not found (the cache is unavailable).")


class ResilientRedisCache(RedisCache):
    """Django's ``RedisCache``, with Redis being down treated as an empty cache.

    ``OPTIONS`` take ``socket_connect_timeout`` / ``socket_timeout`` (seconds, default 0.25 and
    0.5: a cache that answers slower than that is no help to a page) and ``breaker_seconds``
    (default 5: how long Redis is skipped after a failure).
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        breaker_seconds = float(options.pop("breaker_seconds", 5))
        options.setdefault("socket_connect_timeout", 0.25)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self.breaker = CircuitBreaker(f"Redis cache {self._servers[0]}", breaker_seconds)

    # ``add`` answers True like DummyCache: allauth spins on ``add`` for its rate-limit lock.
    add = _guarded(lambda *a, **k: True)(RedisCache.add)
    get = _guarded(lambda key, default=None, version=None: default)(RedisCache.get)
    set = _guarded(lambda *a, **k: None)(RedisCache.set)
    touch = _guarded(lambda *a, **k: False)(RedisCache.touch)
    delete = _guarded(lambda *a, **k: False)(RedisCache.delete)
    get_many = _guarded(lambda *a, **k: {})(RedisCache.get_many)
    has_key = _guarded(lambda *a, **k: False)(RedisCache.has_key)
    incr = _guarded(_missing_key)(RedisCache.incr)
    set_many = _guarded(lambda *a, **k: [])(RedisCache.set_many)
    delete_many = _guarded(lambda *a, **k: None)(RedisCache.delete_many)
    clear = _guarded(lambda *a, **k: False)(RedisCache.clear)
