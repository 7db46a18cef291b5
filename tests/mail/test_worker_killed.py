"""Outbound mail is sent once even when a real Celery worker is killed (SIGKILL) mid-send.

Real processes: a Celery worker (``celery -A contactcentre worker --pool solo``) on a real Redis
(a private ``redis-server`` in embedded mode, ``REDIS_URL`` in CI) and the test's own database
(the SQLite file, or PostgreSQL in CI), sending to an SMTP sink in this process that stalls the
first delivery where the test wants to kill the worker. The job is published by the real code
path (``ticket_reply`` -> after commit -> ``deliver_email`` -> ``enqueue``) onto that broker.

What is and is not exactly-once (docs/security.md, "Outbound mail: exactly once"): a kill before
the relay's 250 to DATA leaves nothing delivered and the lease lets the sweep retry; a kill after
the 250 but before QUIT is safe because the row is marked sent before QUIT; only a kill between
the 250 and that commit (microseconds) resends, with the same Message-ID for the receiver to
deduplicate on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from celery import Celery

from contactcentre.intake.mail.models import AutoReply
from contactcentre.intake.mail.services import receipt_send_on_commit
from contactcentre.ops import jobs
from contactcentre.tickets.models import Message, TicketEvent
from contactcentre.tickets.services import ticket_reply
from tests.factories import TicketFactory, contact_with_email
from tests.procs import REPO, database_url_of_test_db, free_port, redis_url_for_tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

LEASE_S = 1


# --- an SMTP sink that stalls where the test wants to kill the sender -----------------------------

@dataclass
class StallingSink:
    """A minimal SMTP server. ``mode``: "stall_data" (the first DATA is read in full but never
    answered: the sender is stuck waiting for the 250), "stall_quit" (the first DATA is accepted
    with 250, then nothing more is answered: the sender is stuck in QUIT), "tempfail" (every DATA
    is answered 451), "accept". A mail counts as delivered only once it was answered 250."""

    mode: str
    stalls: int = 1  # how many deliveries, from the first, stall
    port: int = field(default_factory=free_port)
    delivered: list[bytes] = field(default_factory=list)
    data_seen: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    stalled_count: int = 0
    _loop: asyncio.AbstractEventLoop | None = None

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def reply(text: str) -> None:
            writer.write(text.encode() + b"\r\n")
            await writer.drain()

        try:
            await reply("220 sink ESMTP")
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    await reply("250-sink\r\n250 8BITMIME")
                elif verb == b"DATA":
                    await reply("354 go ahead")
                    chunks = []
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        chunks.append(chunk)
                    self.data_seen += 1
                    first = self.data_seen == 1
                    if self.mode == "stall_data" and self.data_seen <= self.stalls:
                        self.stalled_count += 1
                        self.stalled.set()
                        await reader.read()  # until the sender dies; never answered: not delivered
                        return
                    if self.mode == "tempfail":
                        await reply("451 4.3.0 try again later")
                        continue
                    self.delivered.append(b"".join(chunks))
                    await reply("250 2.0.0 queued")
                    if self.mode == "stall_quit" and first:
                        await reader.readline()  # the sender's QUIT, never answered
                        self.stalled.set()
                        await reader.read()
                        return
                elif verb == b"QUIT":
                    await reply("221 bye")
                    return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    await reply("250 OK")
        except ConnectionError:
            pass
        finally:
            writer.close()

    def message_ids(self) -> list[str]:
        return [message_from_bytes(raw, policy=policy.default)["Message-ID"] for raw in self.delivered]

    @contextmanager
    def running(self) -> Iterator[StallingSink]:
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(server.close)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)


# --- the real worker ------------------------------------------------------------------------------

@dataclass
class Worker:
    proc: subprocess.Popen
    output: list[str]

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)  # no warm shutdown, no ack, no cleanup
        self.proc.wait(timeout=10)


@contextmanager
def celery_worker(env: dict[str, str]) -> Iterator[Worker]:
    # --concurrency 1 with CELERY_WORKER_PREFETCH_MULTIPLIER=1: the worker reserves only the job
    # it runs (solo otherwise counts the CPUs), so the jobs behind it stay in the queue.
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contactcentre.settings", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contactcentre", "worker", "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
         "--without-mingle", "--without-gossip", "--without-heartbeat", "-n", f"mailtrust-{uuid.uuid4().hex[:8]}@%h"],
        cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            output.append(line)
            if " ready." in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    worker = Worker(proc, output)
    try:
        if not ready.wait(timeout=60):
            raise RuntimeError("the Celery worker did not start:\n" + "".join(output[-60:]))
        yield worker
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@dataclass
class Topology:
    sink: StallingSink
    env: dict[str, str]
    publisher: Celery

    def sweep_until(self, done, *, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        """Publish ``mail.sweep`` (what Celery beat does in production) until ``done()``."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the sweep did not finish the send in time"
            self.publisher.send_task("mail.sweep")
            time.sleep(1.0)


@pytest.fixture
def topology(monkeypatch, request) -> Iterator[Topology]:
    mode, _, stalls = request.param.partition("*")
    with redis_url_for_tests() as redis_url, StallingSink(mode, stalls=int(stalls or 1)).running() as sink:
        publisher = Celery("mailtrust-publisher", broker=redis_url)
        publisher.conf.broker_connection_timeout = 5
        publisher.control.purge()  # nothing left over from an earlier run on a shared Redis
        # The application's own publish, pointed at the real broker (the suite runs jobs eagerly).
        monkeypatch.setattr(jobs, "enqueue", lambda task, *args: bool(publisher.send_task(task.name, args=list(args))))
        env = {
            "DATABASE_URL": database_url_of_test_db(),
            "REDIS_URL": redis_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
            "EMAIL_TIMEOUT": "30",  # longer than the test: only the kill ends the stalled send
            "EMAIL_SEND_LEASE_S": str(LEASE_S),
            "EMAIL_SEND_MAX_RETRIES": "2",
            "EMAIL_SEND_RETRY_BACKOFF_S": "1",
            "MAIL_SWEEP_AFTER_S": "0",
            "SMTP_INTAKE_EMBEDDED": "false",
        }
        try:
            yield Topology(sink=sink, env=env, publisher=publisher)
        finally:
            publisher.close()


def reply_to_resident(agent) -> Message:  # type: ignore[no-untyped-def]
    ticket = TicketFactory(channel="email", contact=contact_with_email("anna@example.org"), subject="Staket")
    return ticket_reply(ticket_id=ticket.pk, actor=agent, body="Nej, ett staket under 1,1 m behöver inget bygglov.")


def out_state(message: Message) -> dict:
    message.refresh_from_db()
    return message.meta.get("email_out") or {}


# --- replies --------------------------------------------------------------------------------------

@pytest.mark.parametrize("topology", ["stall_data*2"], indirect=True)
def test_workers_killed_before_the_relay_accepted_send_receipt_and_reply_once(topology, agent):
    """The first worker is killed mid-receipt, the second mid-reply (each with the whole mail on
    the wire and no 250 yet); the third worker and the sweep deliver each exactly once, with the
    ids fixed up front."""
    sink = topology.sink
    ticket = TicketFactory(channel="email", contact=contact_with_email("anna@example.org"), subject="Staket")
    logs: list[str] = []
    for killed in (1, 2):
        with celery_worker(topology.env) as worker:
            if killed == 1:
                assert receipt_send_on_commit(ticket, in_reply_to="<in@example.org>")  # onto the broker
            else:
                reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Nej, ett staket under 1,1 m behöver inget bygglov.")
            deadline = time.monotonic() + 30
            while sink.stalled_count < killed:
                assert time.monotonic() < deadline, "".join(logs + worker.output[-40:])
                time.sleep(0.05)
            worker.kill()
            logs += worker.output
    receipt = AutoReply.objects.get(ticket=ticket)
    assert sink.delivered == []
    assert (receipt.status, receipt.attempts) == ("pending", 1)
    assert out_state(reply)["attempts"] == 1 and reply.delivery_status == "pending"

    with celery_worker(topology.env):
        # The killed jobs are unacknowledged in Redis (redelivered only after the visibility
        # timeout); the sweep re-queues the rows once the dead attempts' leases have run out.
        topology.sweep_until(lambda: len(sink.delivered) >= 2)
        time.sleep(LEASE_S + 1.0)  # further sweeps must not send anything again
        topology.publisher.send_task("mail.sweep")
        time.sleep(1.0)

    receipt.refresh_from_db()
    reply.refresh_from_db()
    assert sorted(sink.message_ids()) == sorted([receipt.message_id, reply.external_id])  # once each
    assert (receipt.status, receipt.attempts, receipt.sending_until) == ("sent", 2, None)
    assert reply.delivery_status == "sent" and out_state(reply)["attempts"] == 2
    assert "sending_until" not in out_state(reply) and out_state(reply)["sent_at"]


@pytest.mark.parametrize("topology", ["stall_quit"], indirect=True)
def test_worker_killed_after_the_relay_accepted_does_not_send_again(topology, agent):
    sink = topology.sink
    with celery_worker(topology.env) as worker:
        reply = reply_to_resident(agent)
        assert sink.stalled.wait(30), "".join(worker.output[-40:])
        worker.kill()  # the relay has the mail (250 to DATA); the worker hung in QUIT
    reply.refresh_from_db()
    # Marked sent the moment the relay accepted, before QUIT: nothing left to retry.
    assert reply.delivery_status == "sent" and out_state(reply)["attempts"] == 1

    with celery_worker(topology.env):
        topology.publisher.send_task("mail.sweep")
        time.sleep(LEASE_S + 1.0)
        topology.publisher.send_task("mail.sweep")
        time.sleep(1.0)
    assert sink.message_ids() == [reply.external_id]
    assert out_state(reply)["attempts"] == 1


@pytest.mark.parametrize("topology", ["tempfail"], indirect=True)
def test_a_send_that_keeps_failing_stops_after_capped_retries_and_alerts(topology, agent):
    with celery_worker(topology.env) as worker:
        reply = reply_to_resident(agent)
        deadline = time.monotonic() + 30
        while reply.delivery_status != "failed":
            assert time.monotonic() < deadline, "".join(worker.output[-60:])
            time.sleep(0.3)
            reply.refresh_from_db()
        topology.publisher.send_task("mail.sweep")  # a failed row is not queued again
        time.sleep(1.5)
        log = "".join(worker.output)
    assert topology.sink.data_seen == 3  # the first attempt and EMAIL_SEND_MAX_RETRIES=2 retries
    assert out_state(reply)["attempts"] == 3
    assert "451" in reply.delivery_error
    assert TicketEvent.objects.filter(ticket=reply.ticket, kind="delivery_failed").count() == 1
    assert "ERROR" in log and "failed for good" in log  # the alert, in the worker's log
    assert topology.sink.delivered == []


# --- department webhooks (the other outbound notification) ----------------------------------------

class StallingReceiver:
    """A department's case system: the first POST is read in full and never answered (the
    worker is killed while it waits); later ones are answered 200."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.stalled = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                if len(receiver.requests) == 1:
                    receiver.stalled.set()
                    receiver.release.wait(30)
                    return
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/cc"

    @contextmanager
    def running(self) -> Iterator[StallingReceiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()


@pytest.mark.parametrize("topology", ["accept"], indirect=True)
def test_webhook_worker_killed_mid_post_redelivers_with_the_same_idempotency_key(topology, departments):
    from django.db import transaction

    from contactcentre.departments.models import DepartmentWebhook, WebhookDelivery
    from contactcentre.departments.services import department_escalation_notify_on_commit

    env = {**topology.env, "DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS": "true",
           "DEPARTMENT_WEBHOOK_LEASE_S": str(LEASE_S), "DEPARTMENT_WEBHOOK_TIMEOUT_S": "30"}
    with StallingReceiver().running() as receiver:
        DepartmentWebhook.objects.create(department=departments["bygglov"], url=receiver.url, secret="s3cret")
        with celery_worker(env) as worker:
            ticket = TicketFactory(status="escalated", department=departments["bygglov"], subject="Altan")
            with transaction.atomic():
                department_escalation_notify_on_commit(ticket)
            assert receiver.stalled.wait(30), "".join(worker.output[-40:])
            worker.kill()  # the receiver has the request; its answer never reached us
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("pending", 1)

        with celery_worker(env):
            deadline = time.monotonic() + 30
            while WebhookDelivery.objects.get().status != "delivered":
                assert time.monotonic() < deadline, "the webhook sweep did not redeliver"
                topology.publisher.send_task("departments.webhook_sweep")
                time.sleep(1.0)
            time.sleep(LEASE_S + 0.5)
            topology.publisher.send_task("departments.webhook_sweep")  # delivered: nothing more
            time.sleep(1.0)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    # At-least-once over HTTP: the receiver saw it twice, with one key, so it keeps one.
    assert len(receiver.requests) == 2
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert keys == {r["headers"]["X-CC-Delivery"] for r in receiver.requests} == {str(delivery.pk)}
    assert receiver.requests[0]["body"] == receiver.requests[1]["body"]
