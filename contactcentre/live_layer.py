"""The Redis pub/sub channel layer, decoding each published message once per process.

``channels_redis``' pub/sub layer receives a group message once per process and puts the same
bytes in the queue of every local channel in the group; each consumer then decodes it again.
For a broadcast to 500 sockets that is 500 decodes of the same message, and 500 separate copies
of everything in it (the ``agents.online`` list, which each console socket keeps, grows with
the number of agents: copies per socket made memory grow with the square of it). Here the
decoded message is shared: the same bytes object -> the same dict.

Consumers must treat messages as read-only (ours do: they read fields and send text).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer

_CACHE_SIZE = 64  # messages in flight to a process's sockets at once; a miss only costs a decode


class SharedDecodePubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(bytes) -> (the bytes, decoded). The bytes are held, so an id cannot be reused while
        # its entry is here; the identity check makes that explicit.
        self._decoded: OrderedDict[int, tuple[bytes, Any]] = OrderedDict()

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
