"""The production topology in miniature: two daphne processes sharing Redis and the database.
A web intake served by one reaches an agent's websocket served by the other within a second."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.procs import daphne_server, database_url_of_test_db, redis_url_for_tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def two_servers():
    with redis_url_for_tests() as redis_url:
        env = {"DATABASE_URL": database_url_of_test_db(), "REDIS_URL": redis_url, "CHANNEL_PREFIX": "cc-test"}
        with daphne_server(env=env) as port_a, daphne_server(env=env) as port_b:
            yield port_a, port_b


async def _receive_created(ws, deadline: float) -> tuple[dict, float]:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == "ticket.created":
            return frame, time.monotonic()


def test_intake_on_one_process_reaches_a_websocket_on_another(two_servers):
    port_a, port_b = two_servers
    key = Token.objects.create(user=UserFactory(username="anna", role="agent")).key

    async def scenario() -> tuple[dict, float, str]:
        async with websockets.connect(
            f"ws://127.0.0.1:{port_b}/ws/agent/", additional_headers={"Authorization": f"Token {key}"}
        ) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            assert hello["type"] == "hello"
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}") as client:
                # A fresh process builds its routing index on its first enquiry: warm it up, so
                # the measurement is of delivery, not of start-up.
                warm = await client.post("/api/v1/intake/web/", json={"email": "warm@example.org", "message": "Hej"})
                assert warm.status_code == 201
                await _receive_created(ws, deadline=time.monotonic() + 10)
                sent = time.monotonic()
                r = await client.post("/api/v1/intake/web/", json={"email": "anna@example.org", "message": "Hej!"})
                assert r.status_code == 201, r.text
            frame, received = await _receive_created(ws, deadline=sent + 5)
            return frame, received - sent, r.json()["reference"]

    frame, latency, reference = asyncio.run(scenario())
    assert frame["ticket"] == reference
    assert latency < 1.0, f"event took {latency:.3f}s"


def test_anonymous_and_cross_origin_sockets_are_refused_by_a_real_server(two_servers):
    port_a, _ = two_servers

    async def attempt(headers):
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws/agent/", additional_headers=headers) as ws:
                await asyncio.wait_for(ws.recv(), timeout=3)
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        return 200

    assert asyncio.run(attempt({"Origin": "http://127.0.0.1:8000"})) in (403, 4401)
    assert asyncio.run(attempt({"Origin": "https://evil.example.com"})) == 403
