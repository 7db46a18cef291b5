"""Pre-built websocket frames (frontend/live_wire.py): the bytes autobahn would write, and the
ASGI send of a daphne socket resolved to its protocol (anything else: the ordinary path)."""

from __future__ import annotations

import functools
import struct

import pytest

from frontend.live_wire import daphne_protocol, text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_text_frame_is_final_unmasked_and_carries_the_utf8_text(size: int) -> None:
    text = ("å" * size)[:size]  # two bytes a character: crosses each length boundary
    payload = text.encode()
    frame = text_frame(text)
    assert frame[0] == 0x81  # FIN, text
    n = len(payload)
    if n < 126:
        assert frame[1] == n and frame[2:] == payload
    elif n < 1 << 16:
        assert frame[1] == 126 and struct.unpack("!H", frame[2:4])[0] == n and frame[4:] == payload
    else:
        assert frame[1] == 127 and struct.unpack("!Q", frame[2:10])[0] == n and frame[10:] == payload


def test_only_a_daphne_send_resolves_to_a_protocol() -> None:
    from daphne.ws_protocol import WebSocketProtocol

    class Server:
        async def handle_reply(self, protocol: object, message: dict) -> None: ...

    class SessionWrapper:  # channels' InstanceSessionWrapper keeps daphne's send as real_send
        def __init__(self, real_send: object) -> None:
            self.real_send = real_send

        async def send(self, message: dict) -> None: ...

    protocol = WebSocketProtocol.__new__(WebSocketProtocol)
    send = functools.partial(Server().handle_reply, protocol)
    assert daphne_protocol(send) is protocol
    assert daphne_protocol(SessionWrapper(send).send) is protocol
    assert daphne_protocol(functools.partial(Server().handle_reply, object())) is None

    async def other_server_send(message: dict) -> None: ...

    assert daphne_protocol(other_server_send) is None


def test_a_protocol_without_the_expected_attributes_switches_the_direct_path_off(monkeypatch, caplog) -> None:
    """A daphne/autobahn/Twisted release that renames an attribute must not break delivery: the
    direct path turns itself off and every frame goes the ASGI way."""
    from frontend import live_wire

    monkeypatch.setattr(live_wire, "_disabled", [])

    class Renamed:  # an open socket whose library moved its internals
        state = STATE_OPEN = 1

    assert live_wire.write_frame(Renamed(), text_frame("hej")) is False
    assert live_wire._disabled == [True] and "ASGI sends" in caplog.text
    assert live_wire.write_frame(Renamed(), text_frame("hej")) is False  # stays off, logged once
    assert caplog.text.count("ASGI sends") == 1
