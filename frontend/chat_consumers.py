"""Websocket adapters for the resident web chat.

``ResidentChatConsumer`` serves ``/ws/chat/`` (the embeddable widget); ``AgentChatMixin`` adds
the ``chat.*`` frames to the agents' ``/ws/agent/`` socket. Both are thin: validate the frame,
call one service in ``contactcentre.intake.chat.services`` through a sync helper, relay.

Resident protocol (JSON frames; the session token travels in the first frame, never the URL):

client -> server
  {"type": "hello", "token": str|null, "language": "sv"|"en"|"fi", "name": str?}   first frame
  {"type": "message", "id": "<client id>", "text": str}     id makes a resend after a drop harmless
  {"type": "feedback", "message_id": int, "helpful": bool}  "Did this answer your question?"
  {"type": "handover"}                                      "I want to talk to a person"
  {"type": "email", "email": str, "name": str?}             take the answer by e-mail instead
  {"type": "typing"}                                        throttled server-side
  {"type": "end"} | {"type": "ping"}
server -> client
  {"type": "session", "token"?: str, "resumed": bool, "state", "agent", "reason", "transcript": [...],
   "feedback_message_id", "availability": {"available", "reason"}, "max_chars", ...}
  {"type": "message", "message": {"id", "from": "resident"|"bot"|"agent", "name", "text", "ts",
   "article", "client_id"}}                                  (order by id; may repeat: dedupe by id)
  {"type": "ack", "id": "<client id>", "message_id": int, "duplicate": bool}
  {"type": "prompt", "kind": "feedback"|"handover", "message_id"?: int (the answer to rate)}
  {"type": "state", "state", "agent", "reason", "reply_by_email", "email"}
  {"type": "feedback", "message_id", "helpful"} | {"type": "typing", "who": "agent", "name"}
  {"type": "error", "code", "detail", "id"?} | {"type": "pong"}

Agent frames (on /ws/agent/): see ``AgentChatMixin``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from contactcentre.intake.chat import frames, presence, selectors, services
from contactcentre.observability.metrics import WEBSOCKETS
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.events import ticket_group

HELLO_TIMEOUT_S = 15.0
TYPING_INTERVAL_S = 2.0
MAX_FRAME_BYTES = 16_384


def _live(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "live.event", "event": frame}


def _error(exc: DomainError, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": exc.code, "detail": exc.message, **extra}


# --- sync helpers (the ORM is reached only through these) -----------------------------------

@database_sync_to_async
def _open(token: Any, ip: str | None, language: Any, name: Any) -> tuple[int, str | None, bool, int | None]:
    opened = services.chat_session_open(
        token=token if isinstance(token, str) else None,
        ip=ip,
        language=language if isinstance(language, str) else "sv",
        name=name if isinstance(name, str) else "",
    )
    return opened.session.pk, opened.token, opened.resumed, opened.session.ticket_id


@database_sync_to_async
def _snapshot(session_id: int, token: str | None, resumed: bool) -> dict[str, Any]:
    session = selectors.chat_get(session_id=session_id)
    assert session is not None
    return frames.session_frame(session, token=token, resumed=resumed)


@database_sync_to_async
def _receive(session_id: int, text: str, client_id: str, ip: str | None) -> services.ChatReceived:
    return services.chat_message_receive(session_id=session_id, text=text, client_id=client_id, ip=ip)


@database_sync_to_async
def _feedback(session_id: int, message_id: int, helpful: bool) -> services.HandoverResult | None:
    return services.chat_feedback_record(session_id=session_id, message_id=message_id, helpful=helpful)


@database_sync_to_async
def _handover(session_id: int) -> services.HandoverResult:
    return services.chat_handover_request(session_id=session_id)


@database_sync_to_async
def _email(session_id: int, email: str, name: str) -> None:
    services.chat_email_reply_request(session_id=session_id, email=email, name=name)


@database_sync_to_async
def _end(session_id: int, actor: Any = None) -> None:
    services.chat_end(session_id=session_id, actor=actor)


@database_sync_to_async
def _seen(session_id: int) -> None:
    services.chat_session_seen(session_id=session_id)


@database_sync_to_async
def _accept(session_id: int, actor: Any) -> dict[str, Any]:
    session = services.chat_accept(session_id=session_id, actor=actor)
    return {"ticket_id": session.ticket_id, "ticket": session.ticket.reference if session.ticket else None}


@database_sync_to_async
def _typing_target(session_id: int, actor: Any) -> dict[str, Any] | None:
    return services.chat_typing_target(session_id=session_id, actor=actor)


@database_sync_to_async
def _chat_list(actor: Any) -> list[dict[str, Any]]:
    chats = selectors.chat_list(states=[services.State.WAITING, services.State.WITH_AGENT])
    return [
        {
            "session_id": c.pk,
            "state": c.state,
            "ticket": c.ticket.reference if c.ticket else None,
            "ticket_id": c.ticket_id,
            "language": c.language,
            "subject": c.ticket.subject[:120] if c.ticket else "",
            "waiting_since": c.waiting_since.isoformat() if c.waiting_since else None,
            "agent": c.accepted_by.get_username() if c.accepted_by else None,
        }
        for c in chats
    ]


# --- the resident ----------------------------------------------------------------------------

class ResidentChatConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/chat/``: one resident's conversation. Anonymous; the origin was checked by
    ``contactcentre.wsauth``; the session token in the hello frame is the only key."""

    session_id: int | None
    ticket_id: int | None

    async def connect(self) -> None:
        self.session_id = None
        self.ticket_id = None
        self._last_typing = 0.0
        client = self.scope.get("client") or [None]
        # Behind a proxy run daphne with --proxy-headers, so this is the resident's address.
        self.ip: str | None = client[0] if client else None
        await self.accept()
        WEBSOCKETS.labels(kind="resident_chat").inc()
        self._hello_timer = asyncio.get_running_loop().create_task(self._close_without_hello())

    async def _close_without_hello(self) -> None:
        await asyncio.sleep(HELLO_TIMEOUT_S)
        if self.session_id is None:
            await self.close(code=4408)

    async def disconnect(self, code: int) -> None:
        WEBSOCKETS.labels(kind="resident_chat").dec()
        self._hello_timer.cancel()
        if self.session_id is not None:
            await self.channel_layer.group_discard(services.chat_group(self.session_id), self.channel_name)
            await self._tell_agents({"type": "chat.resident", "online": False})
            await _seen(self.session_id)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_json({"type": "error", "code": "frame_too_large", "detail": "Frames are JSON text under 16 kB."})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json({"type": "error", "code": "invalid", "detail": "Frames are JSON objects."})
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_json({"type": "error", "code": "invalid", "detail": "Frames are JSON objects."})
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind == "hello":
            await self._hello(content)
            return
        if self.session_id is None:
            await self.send_json({"type": "error", "code": "hello_first", "detail": "Send a hello frame first."})
            return
        handler = {
            "message": self._message,
            "feedback": self._feedback,
            "handover": self._handover,
            "email": self._email,
            "typing": self._typing,
            "end": self._end,
        }.get(kind)  # type: ignore[call-overload]
        if handler is None:
            await self.send_json({"type": "error", "code": "unknown_type", "detail": f"Unknown frame type {kind!r}."})
            return
        try:
            await handler(content)
        except DomainError as exc:
            await self.send_json(_error(exc, id=content.get("id") if kind == "message" else None))

    async def _hello(self, content: dict[str, Any]) -> None:
        if self.session_id is not None:
            await self.send_json({"type": "error", "code": "already_open", "detail": "The session is already open."})
            return
        try:
            session_id, token, resumed, ticket_id = await _open(
                content.get("token"), self.ip, content.get("language"), content.get("name")
            )
        except services.RateLimited as exc:
            await self.send_json(_error(exc))
            await self.close(code=4429)
            return
        self.session_id, self.ticket_id = session_id, ticket_id
        # Join before reading the transcript, so no reply falls between snapshot and stream.
        await self.channel_layer.group_add(services.chat_group(session_id), self.channel_name)
        await self.send_json(await _snapshot(session_id, token, resumed))
        if resumed:
            await self._tell_agents({"type": "chat.resident", "online": True})

    async def _message(self, content: dict[str, Any]) -> None:
        text, client_id = content.get("text"), content.get("id") or ""
        if not isinstance(text, str) or not isinstance(client_id, str):
            raise DomainError("A message needs a text.", code="invalid")
        assert self.session_id is not None
        result = await _receive(self.session_id, text, client_id, self.ip)
        self.ticket_id = result.ticket_id
        await self.send_json({"type": "ack", "id": client_id, "message_id": result.message_id, "duplicate": result.duplicate})
        if result.prompt:
            await self.send_json({"type": "prompt", "kind": result.prompt, **result.extra})

    async def _feedback(self, content: dict[str, Any]) -> None:
        message_id, helpful = content.get("message_id"), content.get("helpful")
        if not isinstance(message_id, int) or not isinstance(helpful, bool):
            raise DomainError("feedback needs message_id and helpful.", code="invalid")
        assert self.session_id is not None
        await _feedback(self.session_id, message_id, helpful)

    async def _handover(self, content: dict[str, Any]) -> None:
        assert self.session_id is not None
        await _handover(self.session_id)

    async def _email(self, content: dict[str, Any]) -> None:
        email, name = content.get("email"), content.get("name") or ""
        if not isinstance(email, str) or not isinstance(name, str):
            raise DomainError("Enter a valid e-mail address.", code="invalid_email")
        assert self.session_id is not None
        await _email(self.session_id, email, name)

    async def _typing(self, content: dict[str, Any]) -> None:
        # Ephemeral and throttled: a keystroke stream must not become a broadcast storm.
        now = time.monotonic()
        if now - self._last_typing < TYPING_INTERVAL_S or self.ticket_id is None:
            return
        self._last_typing = now
        await self._tell_agents({"type": "chat.typing", "who": "resident"})

    async def _end(self, content: dict[str, Any]) -> None:
        assert self.session_id is not None
        await _end(self.session_id)

    async def _tell_agents(self, frame: dict[str, Any]) -> None:
        # Agents following the conversation watch its ticket group (accepting a chat joins it).
        if self.ticket_id is not None:
            await self.channel_layer.group_send(
                ticket_group(self.ticket_id),
                _live(frame | {"session_id": self.session_id, "ticket_id": self.ticket_id}),
            )

    async def live_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])


# --- the agent side, mixed into AgentConsumer --------------------------------------------------

class AgentChatMixin:
    """Chat frames on ``/ws/agent/`` and agent presence for chat availability.

    client -> server
      {"type": "chat.list"}                          -> {"type": "chat.list", "chats": [...]}
      {"type": "chat.accept", "session_id": N}       -> {"type": "chat.accept.result", "session_id",
                                                        "ok", "ticket", "ticket_id" | "code", "detail"}
      {"type": "chat.typing", "session_id": N}       (throttled; only for a chat with an agent)
      {"type": "chat.end", "session_id": N}          -> {"type": "chat.end.result", "session_id", "ok"}
    server -> client (besides the durable ``chat.waiting``/``chat.accepted``/``chat.offline``/
    ``chat.ended`` events every agent gets): ``chat.typing`` and ``chat.resident`` (online
    true/false) for chats whose ticket the socket watches; accepting a chat watches its ticket.
    Replies go through ``POST /api/v1/tickets/<ref>/reply/`` as for any ticket.
    """

    scope: dict[str, Any]
    channel_name: str
    channel_layer: Any
    groups_joined: list[str]
    send_json: Callable[..., Awaitable[None]]  # provided by the consumer class

    async def chat_connect(self) -> None:
        self._chat_typing_at: dict[int, float] = {}
        self._chat_targets: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self._presence_task: asyncio.Task[None] | None = None
        user = self.scope.get("user")
        if getattr(user, "sees_all_departments", False):
            await self._presence_touch()
            self._presence_task = asyncio.get_running_loop().create_task(self._presence_heartbeat())

    async def chat_disconnect(self) -> None:
        task = getattr(self, "_presence_task", None)
        if task is not None:
            task.cancel()
            await sync_to_async(presence.agent_presence_leave, thread_sensitive=False)(channel_name=self.channel_name)

    async def _presence_touch(self) -> None:
        await sync_to_async(presence.agent_presence_touch, thread_sensitive=False)(
            channel_name=self.channel_name, user_id=self.scope["user"].pk
        )

    async def _presence_heartbeat(self) -> None:
        interval = max(1.0, getattr(settings, "CHAT_PRESENCE_TTL_S", 90) / 3)
        while True:
            await asyncio.sleep(interval)
            await self._presence_touch()

    async def chat_frame(self, kind: str, content: dict[str, Any]) -> None:
        user = self.scope["user"]
        if kind == "chat.list":
            await self.send_json({"type": "chat.list", "chats": await _chat_list(user)})
            return
        session_id = content.get("session_id")
        if not isinstance(session_id, int):
            await self.send_json({"type": "error", "detail": f"{kind} needs an integer 'session_id'."})
            return
        if kind == "chat.accept":
            await self._chat_accept(session_id, user)
        elif kind == "chat.typing":
            await self._chat_typing(session_id, user)
        elif kind == "chat.end":
            try:
                await _end(session_id, user)
            except DomainError as exc:
                await self.send_json({"type": "chat.end.result", "session_id": session_id, "ok": False,
                                      "code": exc.code, "detail": exc.message})
                return
            await self.send_json({"type": "chat.end.result", "session_id": session_id, "ok": True})
        else:
            await self.send_json({"type": "error", "detail": f"Unknown frame type {kind!r}."})

    async def _chat_accept(self, session_id: int, user: Any) -> None:
        try:
            result = await _accept(session_id, user)
        except DomainError as exc:
            await self.send_json({"type": "chat.accept.result", "session_id": session_id, "ok": False,
                                  "code": exc.code, "detail": exc.message})
            return
        group = ticket_group(result["ticket_id"])
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        await self.send_json({"type": "chat.accept.result", "session_id": session_id, "ok": True, **result})

    async def _chat_typing(self, session_id: int, user: Any) -> None:
        now = time.monotonic()
        if now - self._chat_typing_at.get(session_id, 0.0) < TYPING_INTERVAL_S:
            return
        self._chat_typing_at[session_id] = now
        checked_at, target = self._chat_targets.get(session_id, (0.0, None))
        if now - checked_at > 30.0:
            # Re-checked now and then: the chat may have ended or moved on since.
            target = await _typing_target(session_id, user)
            self._chat_targets[session_id] = (now, target)
        if target is None:
            return
        await self.channel_layer.group_send(target["group"], _live({"type": "typing", "who": "agent", "name": target["name"]}))
