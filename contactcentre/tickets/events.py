"""Live events: durable first, realtime second.

Every event is written to ``LiveEvent`` inside the transaction that made the change, and sent to
the channel layer only after that transaction commits. The channel layer is at-most-once (it drops
frames when a client is slow or Redis is away); clients resync from their last event id, so the
database stays the truth.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from contactcentre.observability.metrics import BROADCAST_FAILURES

from .models import LiveEvent, Ticket

log = logging.getLogger(__name__)

STAFF_GROUP = "staff"  # agents, supervisors and admins: every event
SEND_TIMEOUT_S = 1.5
# After a failed send we stop trying for a moment, so a stalled Redis costs one timeout, not one
# per request; the events are in the database and clients resync when the live link returns.
_BREAKER_COOLDOWN_S = 5.0
_breaker = {"open_until": 0.0}
_breaker_lock = threading.Lock()


def department_group(code: str) -> str:
    return f"dept.{code}"


def user_group(user_id: int) -> str:
    # One member of staff's sockets (a screen-pop for the agent answering a call).
    return f"user.{user_id}"


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def ticket_groups(ticket: Ticket, department_code: str = "") -> list[str]:
    groups = [STAFF_GROUP, ticket_group(ticket.pk)]
    if department_code:
        groups.append(department_group(department_code))
    return groups


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    """A small frame: ids and state, never the conversation itself."""
    return {
        "ticket": ticket.reference,
        "ticket_id": ticket.pk,
        "status": ticket.status,
        "department": ticket.department.code if ticket.department_id else None,
        "assignee": ticket.assignee.username if ticket.assignee_id else None,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "subject": ticket.subject[:120],
        "version": ticket.version,
    }


def emit_ticket_event(event_type: str, ticket: Ticket, **extra: Any) -> LiveEvent:
    """Record a ticket event and broadcast it after the surrounding transaction commits."""
    payload = ticket_payload(ticket) | extra
    # Only escalated tickets concern a department's caseworkers (and their group).
    department_code = (payload["department"] or "") if ticket.escalated_at else ""
    event = LiveEvent.objects.create(
        type=event_type, ticket_reference=ticket.reference, department_code=department_code, payload=payload
    )
    frame = {"id": event.pk, "type": event_type, "ts": event.created_at.isoformat(), **payload}
    groups = ticket_groups(ticket, department_code)
    transaction.on_commit(lambda: broadcast(groups, frame))
    return event


def emit_event(event_type: str, payload: dict[str, Any], *, groups: list[str], durable: bool = True) -> None:
    """Broadcast a non-ticket event (presence, calls, commitments). Durable ones are logged too."""
    frame: dict[str, Any] = {"type": event_type, "ts": timezone.now().isoformat(), **payload}
    if durable:
        event = LiveEvent.objects.create(type=event_type, department_code=payload.get("department") or "", payload=payload)
        frame["id"] = event.pk
    transaction.on_commit(lambda: broadcast(groups, frame))


def live_degraded() -> bool:
    return time.monotonic() < _breaker["open_until"]


def encode_frame(frame: dict[str, Any]) -> str:
    """The frame as the text a socket sends: encoded once per event, not once per socket."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def layer_message(frame: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for a frame. ``text`` is what agent sockets send as it is (the
    per-socket cost of fan-out is what matters: no encoding per socket); ``event`` stays for
    consumers that read fields (filters, the resident chat)."""
    return {"type": "live.event", "event": frame, "text": encode_frame(frame)}


class _Publisher:
    """One event loop thread per process for broadcasts from plain sync code.

    ``async_to_sync`` outside a server's event loop (Celery workers, commands, the sync thread of
    a test) starts a new loop for every call, and a Redis channel layer opens a new connection
    for every loop: 5-10 ms per event before anything is published. Here the loop, and with it
    the layer's connection, lives as long as the process (a forked worker starts its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid() or not self._loop.is_running():
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                threading.Thread(target=run, name="live-broadcast", daemon=True).start()
                started.wait(5)
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coro: Any, timeout: float) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            future.result(timeout=timeout)
        except FutureTimeout:
            future.cancel()
            raise


_publisher = _Publisher()


def _in_process_layer(layer: Any) -> bool:
    # The in-memory layer's queues belong to the consumers' loop: send from that loop.
    from channels.layers import InMemoryChannelLayer

    return isinstance(layer, InMemoryChannelLayer)


def broadcast(groups: list[str], frame: dict[str, Any]) -> bool:
    """Send one frame to each group; never raises (the event is already durable)."""
    if live_degraded():
        return False
    layer = get_channel_layer()
    if layer is None:
        return False
    message = layer_message(frame)

    async def _send() -> None:
        for group in groups:
            await layer.group_send(group, message)

    async def _send_bounded() -> None:
        await asyncio.wait_for(_send(), timeout=SEND_TIMEOUT_S)

    try:
        if _in_process_layer(layer):
            async_to_sync(_send_bounded)()
        else:
            _publisher.run(_send_bounded(), timeout=SEND_TIMEOUT_S + 0.5)
    except Exception:  # noqa: BLE001 - the live link is best effort by design
        with _breaker_lock:
            _breaker["open_until"] = time.monotonic() + _BREAKER_COOLDOWN_S
        BROADCAST_FAILURES.inc()
        log.warning("live broadcast failed; clients will resync", exc_info=True)
        return False
    return True
