"""Redis paused (kill -STOP) against a private redis-server: the cache fails open quickly instead
of hanging the request, and recovers when Redis resumes. Never the machine's shared Redis."""

from __future__ import annotations

import signal
import time

import pytest

from contactcentre.records import resilient_cache
from contactcentre.records.resilient_cache import FailOpenRedisCache

pytestmark = pytest.mark.live


def test_the_cache_fails_open_while_redis_is_stopped_and_recovers(private_redis, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    proc, url = private_redis
    monkeypatch.setattr(resilient_cache, "_COOLDOWN_S", 1.0)
    cache = FailOpenRedisCache(url, {"OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}})
    cache.set("k", "v")
    assert cache.get("k") == "v"

    proc.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    assert cache.get("k", "fallback") == "fallback"
    assert cache.add("n", 0) is False
    with pytest.raises(ValueError):
        cache.incr("n")  # callers treat this as "no counter": the rate limit lets the request through
    assert time.monotonic() - started < 1.5, "one short timeout, then the breaker answers at once"

    proc.send_signal(signal.SIGCONT)
    time.sleep(1.1)
    assert cache.get("k") == "v"
