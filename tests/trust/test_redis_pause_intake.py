"""Durable first, realtime second, against real processes: a daphne server on a private Redis
that is paused with SIGSTOP. Intake must still be acknowledged, and afterwards an agent's
socket converges by resync on every acknowledged ticket, each exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from email.mime.text import MIMEText
from typing import Any

import httpx
import pytest
import websockets
from django.conf import settings
from rest_framework.authtoken.models import Token

from contactcentre.intake.phone.signatures import cti_signature
from tests.factories import UserFactory
from tests.procs import daphne_server, database_url_of_test_db

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]
SECRET = "fault-test-intake-secret"
ACK_TIMEOUT_S = 8.0


def _web(client: httpx.Client, n: int) -> str | None:
    r = client.post("/api/v1/intake/web/", json={"email": f"web{n}@example.org", "message": f"Hej {n}"})
    return r.json()["reference"] if r.status_code == 201 else None


def _email(client: httpx.Client, n: int) -> str | None:
    msg = MIMEText(f"Hej {n}", "plain", "utf-8")
    msg["From"], msg["To"], msg["Subject"] = f"mail{n}@example.org", "kontakt@solna.example.org", f"Fråga {n}"
    msg["Message-ID"] = f"<fault-{n}-{time.time_ns()}@example.org>"
    r = client.post("/api/v1/intake/email/", content=msg.as_bytes(),
                    headers={"Content-Type": "message/rfc822", "X-Email-Intake-Secret": SECRET})
    return r.json()["reference"] if r.status_code == 201 else None


def _phone(client: httpx.Client, n: int) -> str | None:
    call = f"fault-{n}-{time.time_ns()}"
    ref = None
    for payload in ({"event": "call.answered", "call_id": call, "caller": f"08-123 45{n:03d}", "agent": "anna"},
                    {"event": "call.ended", "call_id": call, "summary": "Vill ha återkoppling.", "outcome": "follow_up"}):
        body = json.dumps(payload).encode()
        ts = str(int(time.time()))
        r = client.post("/api/v1/intake/phone/", content=body, headers={
            "Content-Type": "application/json", "X-CC-Timestamp": ts,
            "X-CC-Signature": cti_signature(secret=settings.CTI_WEBHOOK_SECRET, timestamp=ts, body=body)})
        if r.status_code not in (200, 201):
            return None
        ref = r.json().get("ticket")
    return ref


def _acknowledged(send: Any, client: httpx.Client, n: int) -> str | None:
    try:
        return send(client, n)
    except httpx.TimeoutException:
        return None  # not acknowledged: the client would retry


async def _resync(port: int, key: str, since: int) -> list[dict[str, Any]]:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/agent/",
                                  additional_headers={"Authorization": f"Token {key}"}) as ws:
        await asyncio.wait_for(ws.recv(), timeout=5)  # hello
        await ws.send(json.dumps({"type": "resync", "since": since}))
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
            if frame["type"] == "resync":
                return frame["events"]


async def _hello(port: int, key: str) -> int:
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/agent/",
                                  additional_headers={"Authorization": f"Token {key}"}) as ws:
        return json.loads(await asyncio.wait_for(ws.recv(), timeout=5))["last_event_id"]


CHANNELS = [
    pytest.param(_phone, id="phone"),
    # Web and e-mail queue an e-mail receipt after commit: the publish is bounded and a failure
    # leaves the pending receipt for the mail sweep (contactcentre.ops.jobs).
    pytest.param(_web, id="web"),
    pytest.param(_email, id="email"),
]


@pytest.mark.parametrize("send", CHANNELS)
def test_intake_is_acknowledged_with_redis_paused_and_clients_converge(private_redis, send: Any) -> None:  # type: ignore[no-untyped-def]
    proc, redis_url = private_redis
    key = Token.objects.create(user=UserFactory(username="anna", role="agent")).key
    env = {"DATABASE_URL": database_url_of_test_db(), "REDIS_URL": redis_url, "CHANNEL_PREFIX": "tr-fault",
           "THROTTLE_ANON": "100000/min", "EMAIL_INTAKE_SECRET": SECRET, "CTI_WEBHOOK_SECRET": settings.CTI_WEBHOOK_SECRET}
    with daphne_server(env=env) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=ACK_TIMEOUT_S) as client:
        assert send(client, 0)  # warm: the channel works while Redis is up
        since = asyncio.run(_hello(port, key))

        proc.send_signal(signal.SIGSTOP)
        try:
            acknowledged: list[str | None] = []
            for n in range(1, 4):
                acknowledged.append(_acknowledged(send, client, n))
                if acknowledged[-1] is None:
                    break  # one lost acknowledgement proves the point; do not wait out the rest
        finally:
            proc.send_signal(signal.SIGCONT)
        assert all(acknowledged), f"intake not acknowledged while Redis was paused: {acknowledged}"

        time.sleep(6)  # the broadcast breaker's cool-down
        events = asyncio.run(_resync(port, key, since))
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)), "a resync delivered an event twice"
    created = [e["ticket"] for e in events if e["type"] == "ticket.created"]
    for ref in acknowledged:
        assert created.count(ref) == 1, (ref, created)
