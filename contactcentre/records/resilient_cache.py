"""A Redis cache that fails open: intake must not depend on Redis being up.

Redis holds only what can be lost (throttle counters, chat rate limits, cached engines); the
database holds the records and the login-lockout counters. When Redis stalls or is down, a read
answers "not cached", a write is dropped, and for a few seconds Redis is not asked at all, so one
outage costs one short timeout, not one per request (the same circuit breaker as the live
broadcasts in ``contactcentre.tickets.events``). Throttling is therefore lenient during an outage;
the lockout is not, as it counts in the database.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

log = logging.getLogger(__name__)
_COOLDOWN_S = 5.0
_state = {"open_until": 0.0}
_lock = threading.Lock()

# What each operation answers when Redis cannot be asked.
_FALLBACK: dict[str, Any] = {
    "get": None, "set": None, "add": False, "delete": False, "touch": False, "has_key": False,
    "get_many": {}, "set_many": [], "delete_many": None, "clear": False,
    "incr": None, "decr": None, "get_or_set": None,
}


def redis_available() -> bool:
    return time.monotonic() >= _state["open_until"]


def _guarded(name: str) -> Any:
    original = getattr(RedisCache, name)

    @functools.wraps(original)
    def method(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        if not redis_available():
            return _fallback(name, args, kwargs)
        try:
            return original(self, *args, **kwargs)
        except ValueError:
            raise  # incr of a missing key: the caller's contract, not an outage
        except Exception:  # noqa: BLE001 - any Redis/connection error means "not cached"
            with _lock:
                _state["open_until"] = time.monotonic() + _COOLDOWN_S
            log.warning("cache unavailable; failing open for %.0fs", _COOLDOWN_S, exc_info=True)
            return _fallback(name, args, kwargs)

    return method


def _fallback(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if name == "get":
        return kwargs.get("default", args[1] if len(args) > 1 else None)
    if name == "get_or_set":
        default = kwargs.get("default", args[1] if len(args) > 1 else None)
        return default() if callable(default) else default
    if name in ("incr", "decr"):
        raise ValueError("cache unavailable")
    return _FALLBACK[name]


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new ``redis.Redis`` per cache operation; redis-py's constructor
    sets up its response-callback table each time (about 0.3 ms of CPU, more than the command).
    A ``redis.Redis`` is a thin, thread-safe handle on its connection pool, so one per pool does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


for _name in _FALLBACK:
    setattr(FailOpenRedisCache, _name, _guarded(_name))
