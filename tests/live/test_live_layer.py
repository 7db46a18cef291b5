"""The layers' direct path for live events (contactcentre/live_layer.py): a channel with a sink
gets ``live.event`` group messages through it, in order; every other message, and channels
without a sink, take channels' ordinary queue."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from contactcentre.live_layer import DirectInMemoryChannelLayer, SharedDecodePubSubChannelLayer
from tests.procs import redis_url_for_tests

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["in-memory", "redis-pubsub"])
def layer(request):  # type: ignore[no-untyped-def]
    """Both layers; the Redis one on REDIS_URL (CI) or a private redis-server (embedded)."""
    if request.param == "in-memory":
        yield DirectInMemoryChannelLayer()
        return
    with redis_url_for_tests() as url:
        yield SharedDecodePubSubChannelLayer(hosts=[url], prefix=f"t{uuid.uuid4().hex[:8]}")


async def test_live_events_go_to_sinks_in_order_and_the_rest_to_queues(layer: Any) -> None:
    direct = await layer.new_channel()
    queued = await layer.new_channel()
    got: list[dict[str, Any]] = []

    async def sink(message: dict[str, Any]) -> None:
        got.append(message)

    layer.direct_register(direct, sink)
    try:
        for channel in (direct, queued):
            await layer.group_add("staff", channel)
        for i in range(5):
            await layer.group_send("staff", {"type": "live.event", "event": {"id": i}, "text": f'{{"id":{i}}}'})
        await layer.group_send("staff", {"type": "auth.revoked"})
        for _ in range(100):
            if len(got) == 5:
                break
            await asyncio.sleep(0.02)
        assert [m["event"]["id"] for m in got] == [0, 1, 2, 3, 4]
        # The socket without a sink gets everything through its queue, in order.
        received = [await asyncio.wait_for(layer.receive(queued), 2) for _ in range(6)]
        assert [m["type"] for m in received] == ["live.event"] * 5 + ["auth.revoked"]
        # A non-live message to the socket with a sink still comes through its queue.
        assert (await asyncio.wait_for(layer.receive(direct), 2))["type"] == "auth.revoked"

        layer.direct_unregister(direct)
        await layer.group_send("staff", {"type": "live.event", "event": {"id": 5}, "text": '{"id":5}'})
        assert (await asyncio.wait_for(layer.receive(direct), 2))["event"] == {"id": 5}
        assert len(got) == 5
    finally:
        await layer.flush()
