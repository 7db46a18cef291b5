"""Which agents have the console open (a socket on /ws/agent/), kept in the cache.

One cache entry maps each agent socket (channel name) to its user and an expiry. Sockets
refresh their entry on a heartbeat, so a crashed server's sockets drop out after the TTL
instead of keeping the chat "staffed" for ever. The entry is read-modify-write: a short
``cache.add`` mutex keeps two sockets connecting at once from losing each other's update.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache

KEY = "chat:presence:agents"
LOCK_KEY = "chat:presence:lock"


def _ttl() -> int:
    return int(getattr(settings, "CHAT_PRESENCE_TTL_S", 90))


@contextmanager
def _mutex() -> Iterator[None]:
    acquired = False
    for _ in range(50):
        if cache.add(LOCK_KEY, 1, timeout=2):
            acquired = True
            break
        time.sleep(0.01)
    try:
        # Best effort: when the lock cannot be had, a lost update heals on the next heartbeat.
        yield
    finally:
        if acquired:
            cache.delete(LOCK_KEY)


def _live(entries: dict[str, tuple[int, float]], now: float) -> dict[str, tuple[int, float]]:
    return {channel: entry for channel, entry in entries.items() if entry[1] > now}


def agent_presence_touch(*, channel_name: str, user_id: int) -> None:
    now = time.time()
    with _mutex():
        entries = _live(cache.get(KEY) or {}, now)
        entries[channel_name] = (user_id, now + _ttl())
        cache.set(KEY, entries, timeout=_ttl() * 2)


def agent_presence_leave(*, channel_name: str) -> None:
    now = time.time()
    with _mutex():
        entries = _live(cache.get(KEY) or {}, now)
        entries.pop(channel_name, None)
        cache.set(KEY, entries, timeout=_ttl() * 2)


def agents_online() -> set[int]:
    """User ids of agents with at least one live console socket."""
    return {user_id for user_id, _expires in _live(cache.get(KEY) or {}, time.time()).values()}
