"""A Redis cache that degrades instead of failing: while Redis is unreachable, reads miss and writes are dropped.

The cache holds only throttle counters. Without this, a Redis outage turns every login into a 500
(tests/faults/test_redis_outage.py found it); with it, logins keep working and throttling is off
until Redis returns, a trade-off SECURITY.md records. Errors are logged, at most once a minute.
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

_READS = {"get": None, "get_many": {}, "has_key": False, "get_or_set": None}
_WRITES = {"set": None, "add": False, "delete": False, "touch": False, "set_many": [], "delete_many": None}


class FailSoftRedisCache(RedisCache):
    _last_logged = 0.0

    def _fallback(self, name: str, fallback, exc: Exception, args: tuple, kwargs: dict):
        now = time.monotonic()
        if now - FailSoftRedisCache._last_logged > 60:
            FailSoftRedisCache._last_logged = now
            logger.warning("cache unavailable (%s); %s degraded", exc.__class__.__name__, name)
        if name in ("get", "get_or_set"):
            # The caller's default, however it was passed.
            return args[1] if len(args) > 1 else kwargs.get("default", fallback)
        return fallback


def _soft(name: str, fallback):
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # redis.exceptions.* and socket errors alike
            return self._fallback(name, fallback, exc, args, kwargs)

    return wrapper


for _name, _fallback_value in {**_READS, **_WRITES}.items():
    setattr(FailSoftRedisCache, _name, _soft(_name, _fallback_value))
