"""The last step of live fan-out under daphne: one websocket frame per event, written as it is
to every socket.

Sending a text frame through ASGI costs more than writing it: channels' session wrapper, daphne's
``handle_reply``, then autobahn builds the frame (header, optional mask, traffic counters and a
debug log line whose arguments it formats even when debug is off) for each socket. A server's
frames are not masked, so without compression (daphne does not offer it) the bytes of a text frame
are the same for every socket: they are built once per event here and handed to each socket's
transport (straight to the socket when nothing is queued before it). Whenever a socket is not in
the plain state this relies on (not open, a message half sent, compression or auto-fragmenting
on, an old protocol version), or the server is not daphne (the test communicator, another
server), the caller sends the ordinary ASGI way.
"""

from __future__ import annotations

import functools
import logging
import struct
from typing import Any

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=64)
def text_frame(text: str) -> bytes:
    """A final, unmasked text frame (RFC 6455 5.2) carrying ``text``."""
    payload = text.encode("utf-8")
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


def daphne_protocol(send: Any) -> Any | None:
    """The daphne websocket protocol behind an ASGI ``send`` callable, or None.

    daphne's ``send`` is ``functools.partial(server.handle_reply, protocol)``; channels' session
    middleware wraps it in a method whose object keeps it as ``real_send``."""
    for _ in range(4):
        if isinstance(send, functools.partial):
            if getattr(send.func, "__name__", "") == "handle_reply" and len(send.args) == 1:
                protocol = send.args[0]
                if _is_daphne_websocket(protocol):
                    return protocol
            return None
        inner = getattr(getattr(send, "__self__", None), "real_send", None)
        if inner is None:
            return None
        send = inner
    return None


def _is_daphne_websocket(protocol: Any) -> bool:
    try:
        from daphne.ws_protocol import WebSocketProtocol
    except ImportError:  # pragma: no cover - daphne is a dependency
        return False
    return isinstance(protocol, WebSocketProtocol)


def write_frame(protocol: Any, frame: bytes) -> bool:
    """Write a prepared frame if the socket is in the plain open state; False: send it the ASGI way.

    It reads daphne's, autobahn's and Twisted's own attributes; if a release renames one, this
    path switches itself off (logged once) and every frame goes the ASGI way, slower but right."""
    if _disabled:
        return False
    try:
        return _write_frame(protocol, frame)
    except AttributeError:
        _disabled.append(True)
        log.warning("live frames: the direct write path does not fit this daphne/autobahn/Twisted; using ASGI sends",
                    exc_info=True)
        return False


_disabled: list[bool] = []


def _write_frame(protocol: Any, frame: bytes) -> bool:
    if (
        protocol.state != protocol.STATE_OPEN
        or protocol.send_state != protocol.SEND_STATE_GROUND
        or protocol.send_queue
        or protocol._perMessageCompress is not None
        or protocol.autoFragmentSize
        or protocol.websocket_version == 0
        or protocol.factory.maskServerFrames
        or protocol.transport is None
    ):
        return False
    transport = protocol.transport
    if _idle_tcp(transport):
        # Nothing queued before it: send now. Twisted's write would register the socket for
        # writability, send on the next loop turn and unregister it (two epoll changes and a loop
        # callback per frame: most of the cost left once the frame is built once).
        try:
            sent = transport.socket.send(frame)
        except OSError:  # full (EAGAIN), interrupted, or broken: Twisted's write deals with it
            sent = 0
        if sent == len(frame):
            return True
        frame = frame[sent:]
    transport.write(frame)
    return True


def _idle_tcp(transport: Any) -> bool:
    from twisted.internet.tcp import Connection

    return (
        isinstance(transport, Connection)
        and not transport.TLS
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
        and not transport._tempDataBuffer
        and len(transport.dataBuffer) == transport.offset
    )
