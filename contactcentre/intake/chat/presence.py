"""Which agents have the console open (a socket on /ws/agent/), kept in the cache; and who is
viewing or typing on each ticket (the console's collision detection, same store and mutex).

One cache entry maps each agent socket (channel name) to its user and an expiry. Sockets
refresh their entry on a heartbeat, so a crashed server's sockets drop out after the TTL
instead of keeping the chat "staffed" for ever. The entry is read-modify-write: a short
``cache.add`` mutex keeps two sockets connecting at once from losing each other's update.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

KEY = "chat:presence:agents"
LOCK_KEY = "chat:presence:lock"


def _ttl() -> int:
    return int(getattr(settings, "CHAT_PRESENCE_TTL_S", 90))


@contextmanager
def _mutex(lock_key: str = LOCK_KEY) -> Iterator[None]:
    acquired = False
    for _ in range(50):
        if cache.add(lock_key, 1, timeout=2):
            acquired = True
            break
        time.sleep(0.01)
    try:
        # Best effort: when the lock cannot be had, a lost update heals on the next heartbeat.
        yield
    finally:
        if acquired:
            cache.delete(lock_key)


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


# --- who is viewing / typing on a ticket (collision detection in the console) ---------------
# The same store and mutex, one entry per ticket: {channel name: (username, expires, typing until)}.
# Ephemeral by design: nothing here is durable, a lost entry heals on the next heartbeat.

@dataclass(frozen=True, slots=True)
class TicketPresence:
    viewers: list[str]
    typing: list[str]


def _ticket_key(ticket_id: int) -> str:
    return f"ticket:presence:{ticket_id}"


def _ticket_live(entries: dict[str, tuple[str, float, float]], now: float) -> dict[str, tuple[str, float, float]]:
    return {channel: entry for channel, entry in entries.items() if entry[1] > now}


def _summary(entries: dict[str, tuple[str, float, float]], now: float) -> TicketPresence:
    # One agent with two tabs is one viewer.
    viewers = sorted({username for username, _exp, _typing in entries.values()})
    typing = sorted({username for username, _exp, until in entries.values() if until > now})
    return TicketPresence(viewers=viewers, typing=typing)


def ticket_viewer_touch(*, ticket_id: int, channel_name: str, username: str, typing_s: float = 0.0) -> TicketPresence:
    """Mark the socket as viewing the ticket (and typing for ``typing_s`` seconds)."""
    now = time.time()
    key = _ticket_key(ticket_id)
    with _mutex(f"{key}:lock"):
        entries = _ticket_live(cache.get(key) or {}, now)
        previous = entries.get(channel_name)
        typing_until = now + typing_s if typing_s else (previous[2] if previous else 0.0)
        entries[channel_name] = (username, now + _ttl(), typing_until)
        cache.set(key, entries, timeout=_ttl() * 2)
        return _summary(entries, now)


def ticket_viewer_leave(*, ticket_id: int, channel_name: str) -> TicketPresence:
    now = time.time()
    key = _ticket_key(ticket_id)
    with _mutex(f"{key}:lock"):
        entries = _ticket_live(cache.get(key) or {}, now)
        entries.pop(channel_name, None)
        if entries:
            cache.set(key, entries, timeout=_ttl() * 2)
        else:
            cache.delete(key)
        return _summary(entries, now)


def ticket_presence(*, ticket_id: int) -> TicketPresence:
    now = time.time()
    return _summary(_ticket_live(cache.get(_ticket_key(ticket_id)) or {}, now), now)
