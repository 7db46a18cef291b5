"""Websocket adapters. Thin: check the user, join groups derived server-side, accept, say hello;
the database is reached only through ``database_sync_to_async`` helpers."""

from __future__ import annotations

from collections import deque
from typing import Any

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from contactcentre.observability.metrics import WEBSOCKETS
from contactcentre.tickets import selectors
from contactcentre.tickets.events import STAFF_GROUP, department_group, ticket_group, user_group

from .chat_consumers import AgentChatMixin
from .live_wire import daphne_protocol, text_frame, write_frame
from .workdist_consumers import ConsoleWorkMixin

RESYNC_LIMIT = 500


def reconnect_policy() -> dict[str, int]:
    """Announced in the hello; clients (live.js, tests/live/test_reconnect_storm.py) wait a random
    time in [0, min(max_ms, base_ms * 2^(n-1))) before their n-th reconnect: full jitter, so a
    restarted server sees its sockets come back spread out instead of in one burst."""
    return {
        "base_ms": int(getattr(settings, "LIVE_RECONNECT_BASE_MS", 1000)),
        "max_ms": int(getattr(settings, "LIVE_RECONNECT_MAX_MS", 30000)),
    }


def _groups_of(user: Any) -> list[str]:
    if not getattr(user, "is_staff_member", False):
        return []
    if user.sees_all_departments:
        return [STAFF_GROUP, user_group(user.pk)]
    if user.department_id:
        return [department_group(user.department.code), user_group(user.pk)]
    return []


_groups_of_db = database_sync_to_async(_groups_of)


def _department_loaded(user: Any) -> bool:
    try:
        return not user.department_id or user._meta.get_field("department").is_cached(user)
    except (AttributeError, LookupError):
        return False


async def _groups_for(user: Any) -> list[str]:
    # A connect burst queues every sync helper on one thread (thread-sensitive by default), and
    # daphne drops handshakes not accepted within 5 s: skip the hop when nothing needs the
    # database (token sockets come with their department loaded, agents need none).
    if _department_loaded(user):
        return _groups_of(user)
    return await _groups_of_db(user)


# Plain reads, run in the thread pool rather than on the one sync thread, so a reconnect storm's
# hellos and resyncs do not queue behind each other (and behind the other connect work).
def _last_event_id_sync() -> int:
    return selectors.live_event_last_id()


def _events_since_sync(user: Any, since: int) -> list[dict[str, Any]]:
    events = selectors.live_events_since(user=user, since=since, limit=RESYNC_LIMIT)
    return [{"id": e.pk, "type": e.type, "ts": e.created_at.isoformat(), **e.payload} for e in events]


_last_event_id = DatabaseSyncToAsync(_last_event_id_sync, thread_sensitive=False)
_events_since = DatabaseSyncToAsync(_events_since_sync, thread_sensitive=False)


@database_sync_to_async
def _may_watch(user: Any, ticket_id: int) -> bool:
    return selectors.ticket_scope(user).filter(pk=ticket_id).exists()


class AgentConsumer(ConsoleWorkMixin, AgentChatMixin, AsyncJsonWebsocketConsumer):
    """``/ws/agent/``: every ticket event the member of staff may see, as small JSON frames.

    Protocol (client -> server): ``{"type": "resync", "since": <event id>}`` replays missed
    events; ``{"type": "watch", "ticket_id": N}`` / ``unwatch`` join a ticket's group;
    ``{"type": "ping"}`` -> ``pong``; ``chat.*`` frames: see ``AgentChatMixin``; ``presence.*``,
    ``offer.*`` and ``availability``: see ``ConsoleWorkMixin``.
    """

    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        # An event reaches a socket once per group it is in (staff + a watched ticket): the
        # recent ids let us send each frame once.
        self._recent_ids: deque[int] = deque(maxlen=64)
        user = self.scope.get("user")
        groups = await _groups_for(user) if user is not None and user.is_authenticated else []
        if not groups:
            await self.close(code=4401)
            return
        # Live events come straight from the layer where it can (live_layer.py: no queue, task or
        # dispatch per socket); until this handler is done they wait (see dispatch), so the hello
        # stays the first frame.
        register = getattr(self.channel_layer, "direct_register", None)
        if register is not None:
            register(self.channel_name, self._live_direct)
        # Join before reading the snapshot (the hello's last id): no event falls in between.
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.accept()
        self._wire = daphne_protocol(self.base_send)
        WEBSOCKETS.labels(kind="agent").inc()
        await self.chat_connect()
        await self.send_json({"type": "hello", "user": user.get_username(), "role": user.role,
                              "last_event_id": await _last_event_id(), "reconnect": reconnect_policy(),
                              **await self.work_hello()})
        await self.work_connect()

    async def disconnect(self, code: int) -> None:
        unregister = getattr(self.channel_layer, "direct_unregister", None)
        if unregister is not None:
            unregister(self.channel_name)
        self._live_pending = []  # nobody to send them to
        await self.chat_disconnect()
        if self.groups_joined:
            WEBSOCKETS.labels(kind="agent").dec()
            await self.work_disconnect()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "detail": "Frames are JSON objects."})
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "resync":
            await self._resync(content.get("since"))
        elif kind in ("watch", "unwatch"):
            await self._watch(kind, content.get("ticket_id"))
        elif isinstance(kind, str) and kind.startswith("chat."):
            await self.chat_frame(kind, content)
        elif isinstance(kind, str) and (kind.startswith(("presence.", "offer.")) or kind == "availability"):
            await self.work_frame(kind, content)
        else:
            await self.send_json({"type": "error", "detail": f"Unknown frame type {kind!r}."})

    async def _resync(self, since: Any) -> None:
        if not isinstance(since, int) or since < 0:
            await self.send_json({"type": "error", "detail": "resync needs an integer 'since'."})
            return
        events = await _events_since(self.scope["user"], since)
        await self.send_json({"type": "resync", "events": events, "complete": len(events) < RESYNC_LIMIT})

    async def _watch(self, kind: str, ticket_id: Any) -> None:
        if not isinstance(ticket_id, int) or not await _may_watch(self.scope["user"], ticket_id):
            await self.send_json({"type": "error", "detail": "No such ticket."})
            return
        group = ticket_group(ticket_id)
        if kind == "watch" and group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        elif kind == "unwatch" and group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.remove(group)

    async def auth_revoked(self, message: dict[str, Any]) -> None:
        # Logout, password change or deactivation (contactcentre.records.signals): the socket's
        # credentials are gone, so the socket goes too.
        await self.close(code=4401)

    # Live events delivered by the layer while a handler runs wait here until it is done.
    _live_pending: list[dict[str, Any]] | None = None
    # daphne's protocol for this socket, to write pre-built frames to (live_wire.py); None: ASGI.
    _wire: Any = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The hot path of fan-out when the layer cannot deliver directly. Channels' dispatch first
        # hops to the sync thread to close stale database connections, one hop per message per
        # socket, all through that one thread; a live event touches no database, so it goes on.
        if message.get("type") == "live.event":
            await self.live_event(message)
            return
        if self._live_pending is not None:
            await super().dispatch(message)
            return
        # One handler at a time, as with channels' queue: the events a client frame causes follow
        # its reply (an accepted offer's ticket.updated after offer.accept.result).
        self._live_pending = []
        try:
            await super().dispatch(message)
        finally:
            await self._live_flush()

    async def _live_direct(self, message: dict[str, Any]) -> None:
        # The layer's sink (registered in connect): runs on the layer's delivery task, one socket
        # after another, so it must not block.
        if self._live_pending is not None:
            self._live_pending.append(message)
            return
        await self.live_event(message)

    async def _live_flush(self) -> None:
        pending = self._live_pending
        # The sink may append while a send below yields: the loop takes those too, in order.
        while pending:
            await self.live_event(pending.pop(0))
        self._live_pending = None

    async def live_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if not self.work_filter(event):
            return
        event_id = event.get("id")
        if event_id is not None:
            if event_id in self._recent_ids:
                return
            self._recent_ids.append(event_id)
        text = message.get("text")
        if text is None:  # a sender that did not pre-encode (presence frames)
            await self.send_json(event)
        elif self._wire is None or not write_frame(self._wire, text_frame(text)):
            # Encoded once by the sender (tickets.events.layer_message), sent as it is; under
            # daphne the frame is built once per process too and written as it is (live_wire.py).
            await self.send(text_data=text)
