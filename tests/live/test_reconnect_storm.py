"""#7: 500 staff sockets on a real daphne hold a steady event stream; when that server restarts
(killed, started again on the same port) they come back with the jittered backoff the server
announces in its hello, resync from their last event id, and end with every event exactly once.

The 500 are caseworkers of one department and the stream is escalations to it: the same
``/ws/agent/`` consumer, hello, resync and live.js policy as for agents, without the console's
per-connect extras (presence, the online list), which make an agent's connect several times
dearer (bench/bench_fanout.py measures agent sockets) and would not fit 500 twice into a
bounded test on a shared 2-core machine.

Two daphne processes share the database and Redis (``redis_url_for_tests`` starts a private
redis-server on the embedded default): the *writer* takes the ticket changes (HTTP) and keeps
going while the *console* server, which holds the 500 sockets, is down. So events fall into the
outage and only the resync can deliver them.

The reference client below follows live.js: reconnect delays from the hello's ``reconnect``
policy (full jitter), ``resync`` after every hello, frames deduplicated by id.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from django.conf import settings
from rest_framework.authtoken.models import Token

from contactcentre.accounts.models import User
from contactcentre.tickets.models import LiveEvent
from frontend.consumers import reconnect_policy
from tests.factories import DepartmentFactory, TicketFactory, UserFactory
from tests.procs import REPO, database_url_of_test_db, free_port, redis_url_for_tests, wait_for_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

N_SOCKETS = int(os.environ.get("STORM_SOCKETS", "500"))  # smaller only to debug by hand
EVENT_INTERVAL_S = 0.4  # a steady stream: 2.5 events/s, 1,250 frames/s to the 500 sockets
WINDOW_S = 0.1
MAX_WINDOW_SHARE = 0.15  # no 100 ms window may hold more than 15 % of the attempts after the kill
# Completed reconnects bunch a little more than attempts do: the restarted server answers the
# handshakes it has queued in batches (seen: 16 % in one window on a loaded 2-core machine).
# Without jitter all 500 would land in one window (100 %), so this bound still catches a storm.
MAX_RECONNECT_WINDOW_SHARE = 0.30
# Bounds, not expectations: on an idle 2-core machine 500 handshakes take a few seconds; on a
# shared, loaded one (4 test sessions at once) 20-30 s were seen. The test asserts behaviour only.
CONNECT_WAIT_S = 90
MAX_EVENTS = 400  # tickets to escalate, one event each (the stream stops earlier)


def reconnect_delay(attempt: int, policy: dict[str, int], rng: random.Random) -> float:
    """live.js ``reconnectDelay``: uniform in [0, min(max_ms, base_ms * 2^(attempt-1))), seconds."""
    cap = min(policy["max_ms"], policy["base_ms"] * 2 ** max(0, attempt - 1))
    return rng.random() * cap / 1000.0


class DaphneProcess:
    """A daphne on a fixed port (so it can be restarted on the same one), logging to a file."""

    def __init__(self, port: int, env: dict[str, str], log: Path) -> None:
        self.port, self.env, self.log = port, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        # A longer handshake limit than daphne's 5 s: what this test checks is that the channel
        # layer's pool holds a burst (PITFALLS 1) and the backoff spreads the reconnects, not how
        # fast a shared CI machine's CPU gets through 500 handshakes (bench/bench_fanout.py
        # reports bursts under the default).
        args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                "--websocket_connect_timeout", "60", "contactcentre.asgi:application"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(args, cwd=REPO, env={**os.environ, "DJANGO_SETTINGS_MODULE": "contactcentre.settings", **self.env},
                                         stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        wait_for_port(self.port, timeout=timeout, proc=self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


class ReferenceClient:
    """One console's live link, as live.js does it."""

    def __init__(self, url: str, key: str, seed: int) -> None:
        self.url, self.key = url, key
        self.rng = random.Random(seed)
        self.policy: dict[str, int] | None = None
        self.last_id = 0
        self.seen: set[int] = set()
        self.dispatched: list[int] = []
        self.duplicate_frames = 0  # the same id twice on the wire (a live frame and a resync): dropped
        # When each attempt was due by the backoff (the policy's spread), and when it actually
        # started (later when this one process, running 500 clients, was busy for a moment).
        self.hellos: list[float] = []  # due times of the attempts that succeeded
        self.hellos_started: list[float] = []
        self.attempts: list[float] = []  # due times of every attempt
        self.first_attempt_ok: bool | None = None
        self.errors: list[str] = []
        self.resynced = asyncio.Event()
        self.connected = asyncio.Event()

    def _dispatch(self, frame: dict) -> None:
        event_id = frame.get("id")
        if not isinstance(event_id, int):
            return
        if event_id in self.seen:
            self.duplicate_frames += 1
            return
        self.seen.add(event_id)
        self.dispatched.append(event_id)
        self.last_id = max(self.last_id, event_id)

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        due: float | None = None
        while not stop.is_set():
            started = loop.time()
            due = started if due is None else due
            self.attempts.append(due)
            try:
                async with websockets.connect(
                    self.url, additional_headers={"Authorization": f"Token {self.key}"},
                    open_timeout=30, max_size=None, ping_interval=None, close_timeout=1,
                ) as ws:
                    async for raw in ws:
                        if raw.startswith('{"type":"agents.online"') or raw.startswith('{"type": "agents.online"'):
                            continue  # the online list: large, and not what this test is about
                        frame = json.loads(raw)
                        kind = frame.get("type")
                        if kind == "hello":
                            attempt = 0
                            self.policy = frame["reconnect"]
                            if self.first_attempt_ok is None:
                                self.first_attempt_ok = len(self.attempts) == 1
                            self.hellos.append(due)
                            self.hellos_started.append(started)
                            self.resynced.clear()
                            self.connected.set()
                            await ws.send(json.dumps({"type": "resync", "since": self.last_id}))
                        elif kind == "resync":
                            for event in frame["events"]:
                                self._dispatch(event)
                            if frame.get("complete") is False:
                                await ws.send(json.dumps({"type": "resync", "since": self.last_id}))
                            else:
                                self.resynced.set()
                        else:
                            self._dispatch(frame)
                        if stop.is_set():
                            return
            except (OSError, TimeoutError, websockets.ConnectionClosed, websockets.InvalidHandshake,
                    websockets.InvalidMessage) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}"[:120])
            self.connected.clear()
            if stop.is_set():
                return
            attempt += 1
            delay = reconnect_delay(attempt, self.policy or reconnect_policy(), self.rng)
            due = loop.time() + delay
            await asyncio.sleep(delay)


def _make_caseworkers(n: int, department) -> list[str]:  # type: ignore[no-untyped-def]
    users = User.objects.bulk_create([User(username=f"storm-{i:04d}", role="caseworker", department=department)
                                      for i in range(n)])
    tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    return [t.key for t in tokens]


def _max_window_share(times: list[float], window: float) -> float:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best / len(times)


def test_500_sockets_come_back_spread_out_after_a_restart_and_miss_nothing(tmp_path):
    department = DepartmentFactory(code="storm")
    keys = _make_caseworkers(N_SOCKETS, department)
    writer_key = Token.objects.create(user=UserFactory(username="storm-writer", role="supervisor")).key
    references = [TicketFactory().reference for _ in range(MAX_EVENTS)]
    first_id = LiveEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    with redis_url_for_tests() as redis_url:
        env = {"DATABASE_URL": database_url_of_test_db(), "REDIS_URL": redis_url,
               "CHANNEL_PREFIX": f"cc-storm-{os.getpid()}", "LOG_LEVEL": "WARNING"}
        writer = DaphneProcess(free_port(), env, tmp_path / "writer.log")
        console = DaphneProcess(free_port(), env, tmp_path / "console.log")
        writer.start()
        console.start()
        try:
            writer.wait_ready()
            console.wait_ready()
            report = asyncio.run(_scenario(writer.port, console, keys, writer_key, references))
        finally:
            console.stop()
            writer.stop()
        logs = f"\n--- console log ---\n{console.tail()}\n--- writer log ---\n{writer.tail()}"

    clients: list[ReferenceClient] = report["clients"]
    expected = list(LiveEvent.objects.filter(id__gt=first_id, department_code="storm").order_by("id")
                    .values_list("id", flat=True))
    assert report["events_written"] >= 10, logs
    assert len(expected) == report["events_written"], logs

    # PITFALLS 1: a burst of 500 connects to a fresh daphne all succeed at the first attempt.
    assert all(c.first_attempt_ok for c in clients), (sum(bool(c.first_attempt_ok) for c in clients), logs)
    # The policy the clients used is the one the server announced.
    assert all(c.policy == reconnect_policy() for c in clients)

    # Events were written while the console server was down: only the resync can bring them.
    assert report["written_during_outage"] >= 1, report["written_during_outage"]

    # All 500 came back, and each holds every event exactly once.
    assert all(len(c.hellos) == 2 for c in clients), sorted({len(c.hellos) for c in clients})
    for c in clients:
        assert sorted(c.dispatched) == expected, (c.key, set(expected) - set(c.dispatched))
        assert len(c.dispatched) == len(set(c.dispatched))

    # Spread, not a storm: the successful reconnects, and every attempt after the restart (refused
    # ones included), never bunch into one short window. Measured on when the backoff made each
    # attempt due: the 500 clients share one event loop here, and a busy moment of it would
    # start timers late and together (shown for information: started_share).
    started_share = _max_window_share([c.hellos_started[1] for c in clients], WINDOW_S)
    killed_at = report["killed_at"]
    reconnects = [c.hellos[1] for c in clients]
    attempts = [t for c in clients for t in c.attempts if t >= killed_at]
    share = _max_window_share(reconnects, WINDOW_S)
    attempt_share = _max_window_share(attempts, WINDOW_S)
    print(f"\nreconnects: busiest {WINDOW_S * 1000:.0f} ms window {share:.1%} of {len(reconnects)}; "
          f"as started {started_share:.1%}; attempts after the kill: {len(attempts)} (busiest window {attempt_share:.1%}); "
          f"events {len(expected)}, {report['written_during_outage']} during the outage; "
          f"duplicate frames dropped by id: {sum(c.duplicate_frames for c in clients)}; "
          f"timings: {report['timings']}")
    assert attempt_share <= MAX_WINDOW_SHARE, attempt_share
    assert share <= MAX_RECONNECT_WINDOW_SHARE, share
    # Backoff, not hammering: nobody needs more than a handful of attempts for one restart.
    assert max(len([t for t in c.attempts if t >= killed_at]) for c in clients) <= 8


async def _wait_all(events: list[asyncio.Event], timeout: float, what: str, errors=None) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout=timeout)
    except TimeoutError:
        missing = sum(1 for e in events if not e.is_set())
        raise AssertionError(f"{missing} of {len(events)} clients not {what} after {timeout}s; "
                             f"{errors() if errors else ''}") from None


async def _scenario(writer_port: int, console: DaphneProcess, keys: list[str], writer_key: str,
                    references: list[str]) -> dict:
    loop = asyncio.get_running_loop()
    url = f"ws://127.0.0.1:{console.port}/ws/agent/"
    clients = [ReferenceClient(url, key, seed=i) for i, key in enumerate(keys)]
    stop_clients = asyncio.Event()
    stop_writer = asyncio.Event()
    timings: dict[str, float] = {}
    t0 = loop.time()
    tasks = [loop.create_task(c.run(stop_clients)) for c in clients]
    written: list[float] = []
    outage: dict[str, float] = {}

    async def write_events() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{writer_port}", timeout=10,
                                     headers={"Authorization": f"Token {writer_key}"}) as http:
            for reference in references:
                if stop_writer.is_set():
                    break
                r = await http.post(f"/api/v1/tickets/{reference}/escalate/", json={"department": "storm"})
                assert r.status_code == 200, r.text
                written.append(loop.time())
                await asyncio.sleep(EVENT_INTERVAL_S)

    writer_task: asyncio.Task | None = None

    def errors() -> str:
        seen = sorted({e for c in clients for e in c.errors})
        return f"errors seen by clients: {seen[:5]}; console log: {console.tail()[-1500:]}"
    try:
        await _wait_all([c.connected for c in clients], CONNECT_WAIT_S, "connected", errors)
        await _wait_all([c.resynced for c in clients], 20, "resynced")
        timings["connect_burst_s"] = round(loop.time() - t0, 1)
        writer_task = loop.create_task(write_events())
        await asyncio.sleep(2.0)  # the stream reaches all 500

        outage["killed_at"] = loop.time()
        console.kill()
        console.start()
        await loop.run_in_executor(None, console.wait_ready)
        outage["up_at"] = loop.time()
        await asyncio.sleep(0.2)
        await _wait_all([c.connected for c in clients], CONNECT_WAIT_S, "reconnected", errors)
        await _wait_all([c.resynced for c in clients], 20, "resynced after the restart")
        timings["restart_to_all_back_s"] = round(loop.time() - outage["killed_at"], 1)
        await asyncio.sleep(1.0)  # the stream goes on live
        stop_writer.set()
        await writer_task
        # Wait for the last frame everywhere (at-most-once: a client missing it would resync on
        # its next reconnect; here every socket is up, so the frame must arrive).
        last = len(written)
        deadline = loop.time() + 15
        while loop.time() < deadline and any(len(c.dispatched) < last for c in clients):
            await asyncio.sleep(0.1)
    finally:
        stop_writer.set()
        stop_clients.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if writer_task is not None and not writer_task.done():
            writer_task.cancel()
    during = sum(1 for t in written if outage["killed_at"] <= t <= outage.get("up_at", 0))
    return {"clients": clients, "events_written": len(written), "written_during_outage": during,
            "killed_at": outage["killed_at"], "timings": timings}


def test_the_python_reference_backoff_is_jittered_and_capped():
    policy = reconnect_policy()
    rng = random.Random(1)
    for attempt in (1, 2, 3, 6, 12):
        delays = [reconnect_delay(attempt, policy, rng) for _ in range(2000)]
        cap = min(policy["max_ms"], policy["base_ms"] * 2 ** (attempt - 1)) / 1000
        assert max(delays) < cap and min(delays) >= 0
        # Full jitter: spread over the whole interval, not bunched at its end.
        assert min(delays) < cap * 0.05 and max(delays) > cap * 0.95
    assert settings.ASGI_APPLICATION  # the policy is the server's (frontend.consumers)
