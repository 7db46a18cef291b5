"""Console frames on ``/ws/agent/`` for presence (collision detection), offers and availability,
mixed into ``AgentConsumer``. Thin: validate the frame, call one service through a sync helper,
relay. Presence is ephemeral (the cache, never the database or the replay log).

client -> server
  {"type": "presence.view", "ticket_id": N}     I have this ticket open (also watches its group)
  {"type": "presence.leave", "ticket_id": N}    I closed it (the watch stays until "unwatch")
  {"type": "presence.typing", "ticket_id": N}   I am typing (send on keystrokes; throttled here)
  {"type": "offer.accept", "offer_id": N}       -> {"type": "offer.accept.result", "offer_id", "ok",
                                                    "kind", "ticket", "ticket_id" | "code", "detail"}
  {"type": "offer.decline", "offer_id": N}      -> {"type": "offer.decline.result", "offer_id", "ok", ...}
  {"type": "availability", "available": bool}   -> {"type": "availability", "available": bool}
server -> client
  {"type": "ticket.presence", "ticket_id", "viewers": [usernames], "typing": [usernames]}
      to the ticket's group whenever its viewers or typists change (typing ends after
      WORKDIST_TYPING_TTL_S without a keystroke; a closed socket leaves at once)
  {"type": "agents.online", "agents": [{"username", "name", "role", "available", "load",
      "capacity"}], "as_of"} to staff, coalesced; the hello frame carries the same list, and a
      socket is never sent a list older than, or equal to, the one it has
  {"type": "offer.created", "offer_id", "kind", "ticket", "ticket_id", "subject", "expires_at", ...}
      to the offered agent (again after each (re)connect while still open)
  {"type": "offer.withdrawn", "offer_id", "reason"}   expired, taken, declined, agent_unavailable
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from contactcentre.intake.chat import presence
from contactcentre.tickets import selectors as ticket_selectors
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.events import ticket_group
from contactcentre.workdist import selectors, services

# Keystroke frames refresh the shared entry at most this often per ticket and socket.
TYPING_REFRESH_S = 1.0


# --- sync helpers (the ORM and the cache mutex are reached only through these) ---------------

@database_sync_to_async
def _agent_seen(user: Any) -> bool:
    return services.agent_seen(user=user).available


@database_sync_to_async
def _agents_online_snapshot() -> tuple[float, list[dict[str, Any]]]:
    # Read the clock first: a broadcast computed before this snapshot is older and is dropped.
    as_of = time.time()
    return as_of, selectors.agents_online_list()


class _SharedFreshRun:
    """Concurrent callers share one run of ``fn`` that *started after* they called, so each gets a
    result at least as fresh as its call (a connecting agent's hello lists the agent itself).

    The online list is a query over every connected agent: built for each hello, a burst of 500
    connects made 500 of them, one after another on the one database thread (most of a daphne's
    time in the burst). Shared, a burst builds it once per run's duration."""

    def __init__(self, fn: Callable[[], Awaitable[Any]]) -> None:
        self._fn = fn
        self._loop: asyncio.AbstractEventLoop | None = None

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._lock = loop, asyncio.Lock()
        self._started = self._finished = 0
        self._result: Any = None

    async def __call__(self) -> Any:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._reset(loop)
        wanted = self._started + 1  # a run that starts from now on
        async with self._lock:
            if self._finished >= wanted:
                return self._result
            self._started += 1
            run = self._started
            result = await self._fn()
            self._finished, self._result = run, result
            return result


_agents_online_shared = _SharedFreshRun(_agents_online_snapshot)


@database_sync_to_async
def _open_offers(user: Any) -> list[dict[str, Any]]:
    return [services.offer_frame(o) for o in selectors.offers_open_for(user=user)]


@database_sync_to_async
def _may_view(user: Any, ticket_id: int) -> bool:
    return ticket_selectors.ticket_scope(user).filter(pk=ticket_id).exists()


@database_sync_to_async
def _offer_accept(offer_id: int, user: Any) -> dict[str, Any]:
    offer = services.offer_accept(offer_id=offer_id, actor=user)
    reference = offer.ticket.reference
    return {"kind": offer.kind, "ticket": reference, "ticket_id": offer.ticket_id, "session_id": offer.chat_session_id}


@database_sync_to_async
def _offer_decline(offer_id: int, user: Any) -> dict[str, Any]:
    offer = services.offer_decline(offer_id=offer_id, actor=user)
    return {"kind": offer.kind, "ticket_id": offer.ticket_id}


@database_sync_to_async
def _availability(user: Any, available: bool) -> bool:
    return services.agent_availability_set(actor=user, available=available).available


_touch = sync_to_async(presence.ticket_viewer_touch, thread_sensitive=False)
_leave = sync_to_async(presence.ticket_viewer_leave, thread_sensitive=False)
_read = sync_to_async(presence.ticket_presence, thread_sensitive=False)
_online_pending = sync_to_async(services.agents_online_pending, thread_sensitive=False)
_online_flush = database_sync_to_async(services.agents_online_flush)
# Pending flushes outlive the socket that scheduled them (a disconnect): keep them referenced.
_flushes: set[asyncio.Task[None]] = set()


async def _online_changed() -> None:
    """A socket came or went: one ``agents.online`` per burst, after the coalescing window."""
    if not await _online_pending():
        return

    async def flush() -> None:
        await asyncio.sleep(float(getattr(settings, "WORKDIST_ONLINE_COALESCE_S", 0.5)))
        await _online_flush()

    task = asyncio.get_running_loop().create_task(flush())
    _flushes.add(task)
    task.add_done_callback(_flushes.discard)


def _presence_frame(ticket_id: int, state: presence.TicketPresence) -> dict[str, Any]:
    return {"type": "ticket.presence", "ticket_id": ticket_id, "viewers": state.viewers, "typing": state.typing}


class ConsoleWorkMixin:
    scope: dict[str, Any]
    channel_name: str
    channel_layer: Any
    groups_joined: list[str]
    send_json: Callable[..., Awaitable[None]]  # provided by the consumer class

    async def work_hello(self) -> dict[str, Any]:
        """Extra hello fields (before any other frame: the snapshot comes with the hello)."""
        self._viewing: dict[int, float] = {}  # ticket id -> last typing touch (monotonic; 0: none)
        self._typing_tasks: dict[int, asyncio.Task[None]] = {}
        self._agents_seen: tuple[float, list[dict[str, Any]]] | None = None
        self._work_heartbeat: asyncio.Task[None] | None = None
        user = self.scope["user"]
        if not getattr(user, "sees_all_departments", False):
            return {}
        available = await _agent_seen(user)
        as_of, agents = await _agents_online_shared()
        self._agents_seen = (as_of, agents)
        return {"available": available, "agents_online": agents, "agents_online_as_of": as_of}

    async def work_connect(self) -> None:
        """After the hello: open offers again, and tell the others this agent came online."""
        user = self.scope["user"]
        self._work_heartbeat = asyncio.get_running_loop().create_task(self._viewers_heartbeat())
        if not getattr(user, "sees_all_departments", False):
            return
        for frame in await _open_offers(user):
            await self.send_json({"type": "offer.created", **frame})
        await _online_changed()

    async def work_disconnect(self) -> None:
        heartbeat = getattr(self, "_work_heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        for task in getattr(self, "_typing_tasks", {}).values():
            task.cancel()
        for ticket_id in list(getattr(self, "_viewing", {})):
            await self._broadcast_presence(ticket_id, await _leave(ticket_id=ticket_id, channel_name=self.channel_name))
        getattr(self, "_viewing", {}).clear()
        if getattr(self.scope.get("user"), "sees_all_departments", False):
            # The chat mixin has removed this socket from presence by now.
            await _online_changed()

    async def work_frame(self, kind: str, content: dict[str, Any]) -> None:
        user = self.scope["user"]
        if kind == "availability":
            available = content.get("available")
            if not isinstance(available, bool):
                await self.send_json({"type": "error", "detail": "availability needs a boolean 'available'."})
                return
            try:
                result = await _availability(user, available)
            except DomainError as exc:
                await self.send_json({"type": "error", "code": exc.code, "detail": exc.message})
                return
            await self.send_json({"type": "availability", "available": result})
        elif kind in ("offer.accept", "offer.decline"):
            await self._offer(kind, content.get("offer_id"), user)
        elif kind in ("presence.view", "presence.leave", "presence.typing"):
            await self._presence(kind, content.get("ticket_id"), user)
        else:
            await self.send_json({"type": "error", "detail": f"Unknown frame type {kind!r}."})

    async def _offer(self, kind: str, offer_id: Any, user: Any) -> None:
        if not isinstance(offer_id, int):
            await self.send_json({"type": "error", "detail": f"{kind} needs an integer 'offer_id'."})
            return
        helper = _offer_accept if kind == "offer.accept" else _offer_decline
        try:
            result = await helper(offer_id, user)
        except DomainError as exc:
            await self.send_json({"type": f"{kind}.result", "offer_id": offer_id, "ok": False,
                                  "code": exc.code, "detail": exc.message})
            return
        if kind == "offer.accept":
            # Like accepting a chat: the agent now follows the ticket's own events.
            await self._join(ticket_group(result["ticket_id"]))
        await self.send_json({"type": f"{kind}.result", "offer_id": offer_id, "ok": True, **result})

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)

    async def _presence(self, kind: str, ticket_id: Any, user: Any) -> None:
        if not isinstance(ticket_id, int):
            await self.send_json({"type": "error", "detail": f"{kind} needs an integer 'ticket_id'."})
            return
        if kind == "presence.leave":
            if self._viewing.pop(ticket_id, None) is not None:
                task = self._typing_tasks.pop(ticket_id, None)
                if task is not None:
                    task.cancel()
                await self._broadcast_presence(ticket_id, await _leave(ticket_id=ticket_id, channel_name=self.channel_name))
            return
        now = time.monotonic()
        typing = kind == "presence.typing"
        if ticket_id not in self._viewing:
            if not await _may_view(user, ticket_id):
                await self.send_json({"type": "error", "detail": "No such ticket."})
                return
            await self._join(ticket_group(ticket_id))
            self._viewing[ticket_id] = 0.0
        elif not typing or now - self._viewing[ticket_id] < TYPING_REFRESH_S:
            # A repeated view, or a keystroke burst: the shared entry is fresh enough.
            return
        if typing:
            self._viewing[ticket_id] = now
        typing_s = self._typing_ttl() if typing else 0.0
        state = await _touch(ticket_id=ticket_id, channel_name=self.channel_name, username=user.get_username(),
                             typing_s=typing_s)
        await self._broadcast_presence(ticket_id, state)
        if typing_s:
            previous = self._typing_tasks.pop(ticket_id, None)
            if previous is not None:
                previous.cancel()
            self._typing_tasks[ticket_id] = asyncio.get_running_loop().create_task(
                self._typing_ends(ticket_id, typing_s)
            )

    def _typing_ttl(self) -> float:
        return float(getattr(settings, "WORKDIST_TYPING_TTL_S", 5.0))

    async def _typing_ends(self, ticket_id: int, after: float) -> None:
        # Only the typist's socket knows when its typing ends; it tells the ticket's viewers.
        await asyncio.sleep(after + 0.05)
        self._typing_tasks.pop(ticket_id, None)
        await self._broadcast_presence(ticket_id, await _read(ticket_id=ticket_id))

    async def _broadcast_presence(self, ticket_id: int, state: presence.TicketPresence) -> None:
        await self.channel_layer.group_send(
            ticket_group(ticket_id), {"type": "live.event", "event": _presence_frame(ticket_id, state)}
        )

    async def _viewers_heartbeat(self) -> None:
        # Keeps this socket's viewer entries alive; a crashed server's viewers drop out after the TTL.
        interval = max(1.0, getattr(settings, "CHAT_PRESENCE_TTL_S", 90) / 3)
        username = self.scope["user"].get_username()
        while True:
            await asyncio.sleep(interval)
            for ticket_id in list(self._viewing):
                await _touch(ticket_id=ticket_id, channel_name=self.channel_name, username=username)

    def work_filter(self, event: dict[str, Any]) -> bool:
        """Whether to pass a broadcast frame on: ``agents.online`` only when newer than and
        different from the list this socket already has (the hello's, or the last one)."""
        if event.get("type") != "agents.online":
            return True
        seen = getattr(self, "_agents_seen", None)
        as_of = float(event.get("as_of") or 0.0)
        if seen is not None and (as_of < seen[0] or event.get("agents") == seen[1]):
            return False
        self._agents_seen = (as_of, event.get("agents") or [])
        return True
