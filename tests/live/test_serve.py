"""`manage.py serve` (what `make run` starts) is the whole embedded system in one process:
a web intake answered by it reaches an agent websocket on it within a second, over the
in-process channel layer."""

import asyncio
import json
import time

import httpx
import pytest
import websockets
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.procs import database_url_of_test_db, free_port, server_process

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


@pytest.fixture
def embedded_server():
    port = free_port()
    env = {"DATABASE_URL": database_url_of_test_db(), "REDIS_URL": "", "EMBEDDED_SERVICES": ""}
    with server_process(["manage.py", "serve", "--port", str(port), "--no-services"], env=env, port=port):
        yield port


def test_embedded_server_delivers_a_new_ticket_to_an_agent(embedded_server):
    port = embedded_server
    key = Token.objects.create(user=UserFactory(username="anna", role="agent")).key

    async def scenario():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/agent/",
                                      additional_headers={"Authorization": f"Token {key}"}) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                assert (await client.get("/healthz")).json() == {"status": "ok"}
                warm = await client.post("/api/v1/intake/web/", json={"email": "w@example.org", "message": "Hej"})
                assert warm.status_code == 201  # builds the routing index (start-up, not delivery)
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "ticket.created":
                    pass
                sent = time.monotonic()
                r = await client.post("/api/v1/intake/web/", json={"email": "e@example.org", "message": "Hej"})
                assert r.status_code == 201
            while True:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if frame["type"] == "ticket.created":
                    return frame, time.monotonic() - sent, r.json()["reference"]

    frame, latency, ref = asyncio.run(scenario())
    assert frame["ticket"] == ref
    assert latency < 1.0
