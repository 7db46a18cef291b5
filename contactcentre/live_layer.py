"""Channel layers for the live fan-out: live events go straight from the layer to each socket.

Channels' own path costs more per delivery than the send itself: a group message is put in each
member's queue, which wakes that consumer's receive task, which ``asyncio.wait`` hands to the
dispatch loop, which starts a new receive task for the next message; 500 sockets are 500 task
wake-ups and 500 new tasks per event. Here a consumer registers a *sink* for its channel
(``direct_register``); a ``live.event`` group message for channels with a sink is decoded once per
process and delivered by one task per event loop, which awaits each sink in turn (the sink sends
the pre-encoded frame: no queue, no task, no dispatch per socket). Everything else (chat, auth
revocation, messages to channels without a sink) takes channels' ordinary path.

Sinks must not block: they run one after another on the delivery task (ours send a frame, which
daphne buffers). Messages are shared between sinks and must be treated as read-only.

* ``SharedDecodePubSubChannelLayer``: production, ``channels_redis``' pub/sub layer (one Redis
  subscription per group and process) with the direct path, decoding each message once per process.
* ``DirectInMemoryChannelLayer``: the embedded mode and tests, channels' in-memory layer with the
  same direct path, so both modes deliver live events the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close

log = logging.getLogger(__name__)

DIRECT_TYPE = "live.event"
_CACHE_SIZE = 64  # messages in flight to a process's sockets at once; a miss only costs a decode

Sink = Callable[[dict[str, Any]], Awaitable[None]]


class _DirectHub:
    """The sinks of one event loop and the one task that delivers to them, in arrival order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sinks: dict[str, Sink] = {}
        self._queue: asyncio.Queue[tuple[dict[str, Any], list[str]]] | None = None
        self._task: asyncio.Task[None] | None = None

    def put(self, message: dict[str, Any], channels: list[str]) -> None:
        """Queue ``message`` for ``channels`` (from any thread)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self._put(message, channels)
        else:
            self.loop.call_soon_threadsafe(self._put, message, channels)

    def _put(self, message: dict[str, Any], channels: list[str]) -> None:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = self.loop.create_task(self._deliver(self._queue))
        self._queue.put_nowait((message, channels))

    async def _deliver(self, queue: asyncio.Queue[tuple[dict[str, Any], list[str]]]) -> None:
        while True:
            message, channels = await queue.get()
            for channel in channels:
                sink = self.sinks.get(channel)
                if sink is None:  # the socket went in the meantime
                    continue
                try:
                    await sink(message)
                except Exception:  # noqa: BLE001 - one broken socket must not starve the others
                    log.exception("live delivery to %s failed", channel)

    def split(self, members: Iterable[str]) -> tuple[list[str], list[str]]:
        """(channels with a sink here, the others)."""
        direct: list[str] = []
        other: list[str] = []
        for channel in members:
            (direct if channel in self.sinks else other).append(channel)
        return direct, other


# --- production: Redis pub/sub ------------------------------------------------------------------

class _DirectShardConnection(RedisSingleShardConnection):
    channel_layer: _DirectLoopLayer

    def _receive_message(self, message: Any) -> None:
        if message is None:
            return
        layer = self.channel_layer
        hub = layer.direct_hub
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        members = layer.groups.get(name)
        if members and hub.sinks:
            direct, other = hub.split(members)
            if direct:
                data = message["data"]
                decoded = layer.channel_layer.deserialize(data)
                if isinstance(decoded, dict) and decoded.get("type") == DIRECT_TYPE:
                    hub.put(decoded, direct)
                    for channel in other:
                        queue = layer.channels.get(channel)
                        if queue is not None:
                            queue.put_nowait(data)
                    return
        super()._receive_message(message)


class _DirectLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_DirectShardConnection(shard.host, self) for shard in self._shards]
        self.direct_hub = _DirectHub(asyncio.get_running_loop())


class SharedDecodePubSubChannelLayer(RedisPubSubChannelLayer):
    """``channels_redis``' pub/sub layer with the direct path, decoding each message once per
    process (the pub/sub layer receives a group message once per process and would otherwise
    decode the same bytes once per member: 500 decodes and 500 copies of one broadcast)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(bytes) -> (the bytes, decoded). The bytes are held, so an id cannot be reused while
        # its entry is here; the identity check makes that explicit.
        self._decoded: OrderedDict[int, tuple[bytes, Any]] = OrderedDict()

    def _get_layer(self) -> Any:
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = _DirectLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]

    def deserialize(self, message: bytes) -> Any:
        key = id(message)
        hit = self._decoded.get(key)
        if hit is not None and hit[0] is message:
            return hit[1]
        decoded = super().deserialize(message)
        self._decoded[key] = (message, decoded)
        if len(self._decoded) > _CACHE_SIZE:
            self._decoded.popitem(last=False)
        return decoded

    def direct_register(self, channel: str, sink: Sink) -> None:
        """Deliver ``live.event`` group messages for ``channel`` by awaiting ``sink(message)``."""
        self._get_layer().direct_hub.sinks[channel] = sink

    def direct_unregister(self, channel: str) -> None:
        self._get_layer().direct_hub.sinks.pop(channel, None)


# --- embedded mode and tests: in memory -----------------------------------------------------------

class DirectInMemoryChannelLayer(InMemoryChannelLayer):
    """Channels' in-memory layer with the same direct path (one hub per event loop: a test's
    loop, or the embedded server's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hubs: dict[asyncio.AbstractEventLoop, _DirectHub] = {}

    def _hub(self) -> _DirectHub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            for old in [old for old in self._hubs if old.is_closed()]:
                del self._hubs[old]
            hub = self._hubs[loop] = _DirectHub(loop)
        return hub

    def direct_register(self, channel: str, sink: Sink) -> None:
        self._hub().sinks[channel] = sink

    def direct_unregister(self, channel: str) -> None:
        self._hub().sinks.pop(channel, None)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if message.get("type") != DIRECT_TYPE or not self._hubs or group not in self.groups:
            await super().group_send(group, message)
            return
        self.require_valid_group_name(group)
        self._clean_expired()
        other: list[str] = list(self.groups[group])
        for hub in list(self._hubs.values()):
            if hub.sinks and not hub.loop.is_closed():
                direct, other = hub.split(other)
                if direct:
                    hub.put(message, direct)
        for channel in other:
            try:
                await self.send(channel, message)
            except ChannelFull:  # at-most-once, as channels' own group_send
                pass
