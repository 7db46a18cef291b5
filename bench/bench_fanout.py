"""Live fan-out benchmark: commit -> every agent socket, across two daphne processes sharing Redis.

    .venv/bin/python bench/bench_fanout.py            # 500 sockets, 2/5/10/20 ev/s, 20 s each (< 5 min)
    .venv/bin/python bench/bench_fanout.py --quick    # 100 sockets, 4 s per rate

What it does:

* PostgreSQL database ``bench_fanout`` (created and migrated when missing; ``BENCH_DATABASE_URL``
  overrides), Redis db 10 (``BENCH_REDIS_URL``; flushed at start), production settings.
* Two daphne processes (ports from ``--base-port``, default 8101/8102), as ``scripts/prod.sh`` starts them.
* N agent users with tokens (bulk-created), N websocket clients split evenly over both daphne,
  run by two client processes (one per daphne, so the clients spread over the two cores too).
  The sockets connect in one burst per daphne (PITFALLS: the channel layer's pool must hold it);
  failed handshakes are counted and retried.
* A driver (this process) commits real ticket changes through the service layer
  (``ticket_note`` -> one ``message.created`` LiveEvent each, broadcast after commit, as a Celery
  worker would) at a steady rate for a bounded time per rate.
* Every frame carries ``ts``, the LiveEvent's ``created_at`` (written inside the transaction, so
  slightly *before* the commit: the latency is an upper bound). Each client records
  ``received - ts`` for every event, checks the id sequence (gaps = frames the layer dropped),
  and at the end of each rate asks for a ``resync`` to check the gaps come back from the database.
* Resident memory of each daphne before and after the sockets connect (KiB per socket) and at
  the end of the run.

Timing figures depend on the machine's load; the benchmark prints them and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bench_fanout"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
USER_PREFIX = "bench-agent-"


def server_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings, as the daphne instances of ``make prod`` run them."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcentre.settings",
        "CONTACTCENTRE_ENV": "production",
        "SECRET_KEY": "bench-fanout-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "EMAIL_INTAKE_SECRET": "bench",
        "CTI_WEBHOOK_SECRET": "bench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_PREFIX": "bench-fanout",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "SMTP_INTAKE_EMBEDDED": "0",
    }


# --- processes --------------------------------------------------------------------------------

def rss_kib(pid: int) -> int:
    """Resident set size of one process (KiB), from /proc."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on :{port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on :{port}")


def start_daphne(port: int, env: dict[str, str], log_path: Path, repo: Path = ROOT) -> subprocess.Popen:
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--proxy-headers",
         "contactcentre.asgi:application"],
        cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    wait_port(port, proc)
    return proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- websocket clients (a separate process per daphne) ------------------------------------------

def _ts_epoch(ts: str) -> float:
    return datetime.fromisoformat(ts).timestamp()


class Client:
    """One agent socket: records latencies, id gaps and duplicates of ``message.created`` frames."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.ws: Any = None
        self.last_id = 0
        self.latencies: list[float] = []
        self.missing: set[int] = set()
        self.duplicates = 0
        self.seen_max = 0
        self.resync_wait: asyncio.Future | None = None
        self.hello: dict[str, Any] = {}

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(f"ws://127.0.0.1:{self.port}/ws/agent/", open_timeout=60,
                                additional_headers={"Authorization": f"Token {self.key}"},
                                max_size=None, ping_interval=None)
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout=60))
            if frame.get("type") == "hello":
                self.hello = frame
                self.last_id = self.seen_max = frame["last_event_id"]
                return

    async def run(self) -> None:
        try:
            async for raw in self.ws:
                now = time.time()
                # Cheap filter before parsing: agents.online lists can be large.
                if raw.startswith('{"type": "agents.online"') or raw.startswith('{"type":"agents.online"'):
                    continue
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "resync":
                    if self.resync_wait is not None and not self.resync_wait.done():
                        self.resync_wait.set_result(frame)
                    continue
                event_id = frame.get("id")
                if not isinstance(event_id, int):
                    continue
                if event_id <= self.seen_max:
                    if event_id in self.missing:  # late, out of order: not lost after all
                        self.missing.discard(event_id)
                    else:
                        self.duplicates += 1
                    continue
                if event_id > self.seen_max + 1:
                    self.missing.update(range(self.seen_max + 1, event_id))
                self.seen_max = event_id
                if kind == "message.created" and frame.get("ts"):
                    self.latencies.append((now - _ts_epoch(frame["ts"])) * 1000.0)
        except Exception:  # noqa: BLE001 - a closed socket shows up as missing events
            return

    async def resync_missing(self) -> tuple[int, int]:
        """Ask for what the id sequence says we missed; (missing, recovered)."""
        if not self.missing:
            return 0, 0
        missing = set(self.missing)
        self.resync_wait = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"type": "resync", "since": min(missing) - 1}))
        try:
            frame = await asyncio.wait_for(self.resync_wait, timeout=20)
        except TimeoutError:
            return len(missing), 0
        got = {e["id"] for e in frame.get("events", [])}
        recovered = len(missing & got)
        self.missing -= got
        return len(missing), recovered


async def _connect_with_backoff(client: Client, deadline: float, rng: random.Random) -> bool:
    """Retry like live.js: full jitter over [0, min(30 s, 1 s * 2^(n-1)))."""
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        try:
            await client.connect()
            return True
        except Exception:  # noqa: BLE001 - refused or timed out: back off and try again
            client.ws = None
        await asyncio.sleep(rng.random() * min(30.0, 2 ** (attempt - 1)))
    return False


async def _client_main(conn: Any, port: int, keys: list[str], connect_s: float) -> None:
    loop = asyncio.get_running_loop()
    clients = [Client(port, k) for k in keys]
    cpu0 = time.process_time()
    started = time.monotonic()
    # One burst first (PITFALLS 1): every handshake at once against a fresh daphne.
    results = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    failed = [c for c, r in zip(clients, results, strict=True) if isinstance(r, BaseException)]
    errors = sorted({type(r).__name__ + ": " + str(r)[:80] for r in results if isinstance(r, BaseException)})
    burst_failures = len(failed)
    burst_s = time.monotonic() - started
    rng = random.Random(port)
    deadline = time.monotonic() + connect_s
    again = await asyncio.gather(*(_connect_with_backoff(c, deadline, rng) for c in failed))
    failed = [c for c, ok in zip(failed, again, strict=True) if not ok]
    connected = [c for c in clients if c.ws is not None and c not in failed]
    tasks = [loop.create_task(c.run()) for c in connected]
    conn.send({"connected": len(connected), "burst_failures": burst_failures, "errors": errors,
               "burst_s": burst_s, "connect_s": time.monotonic() - started})
    while True:
        cmd = await loop.run_in_executor(None, conn.recv)
        if cmd == "reset":
            cpu0 = time.process_time()
            for c in connected:
                c.latencies.clear()
                c.duplicates = 0
            conn.send("ok")
        elif isinstance(cmd, tuple) and cmd[0] == "collect":
            last_id = cmd[1]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and any(c.seen_max < last_id for c in connected):
                await asyncio.sleep(0.05)
            late = sum(1 for c in connected if c.seen_max < last_id)
            for c in connected:  # the tail never seen counts as missing too
                if c.seen_max < last_id:
                    c.missing.update(range(c.seen_max + 1, last_id + 1))
                    c.seen_max = last_id
            res = await asyncio.gather(*(c.resync_missing() for c in connected))
            lat = [x for c in connected for x in c.latencies]
            conn.send({
                "latencies": lat,
                "missing": sum(m for m, _ in res),
                "recovered": sum(r for _, r in res),
                "clients_with_gaps": sum(1 for m, _ in res if m),
                "duplicates": sum(c.duplicates for c in connected),
                "late_clients": late,
                "open": sum(1 for c, t in zip(connected, tasks, strict=True) if not t.done()),
                # This client process's CPU since the reset: the clients share the cores with
                # the servers, so a costly client slows the servers' figures down too.
                "cpu_s": time.process_time() - cpu0,
            })
        elif cmd == "stop":
            for c in connected:
                await c.ws.close()
            conn.send("ok")
            return


def client_process(conn: Any, port: int, keys: list[str], connect_s: float) -> None:
    asyncio.run(_client_main(conn, port, keys, connect_s))


# --- database set-up and the driver (Django, in this process) -----------------------------------

def ensure_database(database_url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str, redis_url: str) -> None:
    for key, value in server_env(database_url, redis_url).items():
        os.environ[key] = value
    import django

    django.setup()


def prepare_data(n_users: int, n_tickets: int = 10) -> tuple[list[str], Any, list[int]]:
    """Agents with tokens (bulk), a driver supervisor and a few tickets to write notes on."""
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from contactcentre.accounts.models import User
    from contactcentre.intake.web import web_form_receive
    from contactcentre.tickets.models import Ticket

    call_command("migrate", verbosity=0, interactive=False)
    existing = set(User.objects.filter(username__startswith=USER_PREFIX).values_list("username", flat=True))
    User.objects.bulk_create([
        User(username=f"{USER_PREFIX}{i:04d}", role="agent", first_name="Bench", last_name=f"{i:04d}")
        for i in range(n_users) if f"{USER_PREFIX}{i:04d}" not in existing
    ])
    users = list(User.objects.filter(username__startswith=USER_PREFIX).order_by("username")[:n_users])
    have = set(Token.objects.filter(user__in=users).values_list("user_id", flat=True))
    Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users if u.pk not in have])
    keys = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    driver, _ = User.objects.get_or_create(username="bench-driver", defaults={"role": "supervisor"})
    tickets = list(Ticket.objects.filter(subject__startswith="Bench fan-out").values_list("pk", flat=True)[:n_tickets])
    for i in range(n_tickets - len(tickets)):
        web_form_receive(data={"email": f"bench{i}@example.org", "subject": f"Bench fan-out {i}",
                               "message": "Fan-out benchmark ticket."})
    tickets = list(Ticket.objects.filter(subject__startswith="Bench fan-out").values_list("pk", flat=True)[:n_tickets])
    return [keys[u.pk] for u in users], driver, tickets


def drive(rate: float, duration: float, driver: Any, tickets: list[int]) -> tuple[int, float, int]:
    """Commit ``rate`` ticket notes per second for ``duration`` s; (events, achieved rate, last id)."""
    from contactcentre.tickets import selectors, services

    interval = 1.0 / rate
    start = time.monotonic()
    n = 0
    while True:
        due = start + n * interval
        if due >= start + duration:
            break
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        services.ticket_note(ticket_id=tickets[n % len(tickets)], actor=driver, body=f"bench note {n}")
        n += 1
    elapsed = time.monotonic() - start
    return n, n / elapsed, selectors.live_event_last_id()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 sockets, 4 s per rate")
    parser.add_argument("--clients", type=int, default=None, help="sockets in all (default 500; quick 100)")
    parser.add_argument("--rates", default="2,5,10,20", help="events per second, comma-separated")
    parser.add_argument("--duration", type=float, default=None, help="seconds per rate (default 20; quick 4)")
    parser.add_argument("--base-port", type=int, default=8101)
    parser.add_argument("--connect-s", type=float, default=120.0,
                        help="how long sockets refused in the burst keep retrying (live.js backoff)")
    parser.add_argument("--server-repo", default=str(ROOT),
                        help="run the daphne processes and the driver's publishing from another checkout "
                             "(before/after comparisons, e.g. a `git archive` of an older commit)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    args = parser.parse_args()
    n_clients = args.clients or (100 if args.quick else 500)
    duration = args.duration or (4.0 if args.quick else 20.0)
    rates = [float(r) for r in args.rates.split(",") if r]
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    var = Path(os.environ.get("CONTACTCENTRE_VAR_DIR", ROOT / "var")) / "bench-fanout"
    var.mkdir(parents=True, exist_ok=True)

    import redis

    redis.Redis.from_url(redis_url).flushdb()
    ensure_database(database_url)
    if Path(args.server_repo).resolve() != ROOT:
        # The driver publishes with that checkout's code too (events.broadcast is half the path).
        sys.path.insert(0, str(Path(args.server_repo).resolve()))
    django_setup(database_url, redis_url)
    t0 = time.monotonic()
    keys, driver, tickets = prepare_data(n_clients)
    print(f"data: {len(keys)} agents with tokens, {len(tickets)} tickets ({time.monotonic() - t0:.1f}s)")

    env = server_env(database_url, redis_url)
    ports = [args.base_port, args.base_port + 1]
    servers = [start_daphne(p, env, var / f"daphne-{p}.log", Path(args.server_repo)) for p in ports]
    figures: dict[str, Any] = {"clients": len(keys), "rates": []}
    ctx = mp.get_context("spawn")
    pipes: list[Any] = []
    procs: list[Any] = []
    try:
        time.sleep(1.0)
        rss_before = [rss_kib(s.pid) for s in servers]
        for i, port in enumerate(ports):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=client_process, args=(child, port, keys[i::2], args.connect_s), daemon=True)
            proc.start()
            pipes.append(parent)
            procs.append(proc)
        hellos = [p.recv() for p in pipes]
        connected = sum(h["connected"] for h in hellos)
        burst_failures = sum(h["burst_failures"] for h in hellos)
        print(f"connect burst of {len(keys)} (half to each daphne): {len(keys) - burst_failures} accepted, "
              f"{burst_failures} failed in {max(h['burst_s'] for h in hellos):.1f}s "
              f"{sorted(set(sum((h['errors'] for h in hellos), [])))[:3]}")
        print(f"then with live.js's backoff: {connected}/{len(keys)} connected after "
              f"{max(h['connect_s'] for h in hellos):.1f}s")
        time.sleep(2.0)  # let the agents.online flushes of the burst settle
        rss_after = [rss_kib(s.pid) for s in servers]
        per_socket = [(a - b) / max(1, len(keys[i::2])) for i, (a, b) in enumerate(zip(rss_after, rss_before, strict=True))]
        print("daphne RSS: " + ", ".join(
            f":{p} {b / 1024:.1f} -> {a / 1024:.1f} MiB ({s:.1f} KiB/socket)"
            for p, b, a, s in zip(ports, rss_before, rss_after, per_socket, strict=True)))
        figures.update(connected=connected, burst_failures=burst_failures,
                       rss_before_kib=rss_before, rss_connected_kib=rss_after, kib_per_socket=per_socket)

        # Warm-up: the first broadcasts open connections and fill caches.
        drive(2, 1.0, driver, tickets)
        time.sleep(1.0)
        print(f"{'ev/s':>6} {'achieved':>8} {'deliv/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'missing':>8} {'recov':>6} {'dups':>5} {'cpu% d1/d2':>11} {'cpu ms/deliv':>12} {'client cpu%':>11}")
        held = 0.0
        for rate in rates:
            for p in pipes:
                p.send("reset")
                p.recv()
            cpu0 = [_cpu_s(s.pid) for s in servers]
            wall0 = time.monotonic()
            n, achieved, last_id = drive(rate, duration, driver, tickets)
            results = []
            for p in pipes:
                p.send(("collect", last_id))
            results = [p.recv() for p in pipes]
            wall = time.monotonic() - wall0
            cpu_s = [_cpu_s(s.pid) - c for s, c in zip(servers, cpu0, strict=True)]
            cpu = [c / wall * 100 for c in cpu_s]
            lat = [x for r in results for x in r["latencies"]]
            row = {
                "rate": rate, "events": n, "achieved": achieved,
                "deliveries_per_s": len(lat) / (n / achieved),
                "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": max(lat) if lat else float("nan"),
                "deliveries": len(lat), "expected": n * connected,
                "missing": sum(r["missing"] for r in results), "recovered": sum(r["recovered"] for r in results),
                "clients_with_gaps": sum(r["clients_with_gaps"] for r in results),
                "duplicates": sum(r["duplicates"] for r in results),
                "open_sockets": sum(r["open"] for r in results), "daphne_cpu_pct": cpu,
                # CPU time both daphne spent in this step per frame delivered: the per-delivery
                # cost, less sensitive to the machine's load than latencies are.
                "daphne_cpu_ms_per_delivery": sum(cpu_s) * 1000 / max(1, len(lat)),
                "client_cpu_pct": [r["cpu_s"] / wall * 100 for r in results],
            }
            figures["rates"].append(row)
            print(f"{rate:6.0f} {achieved:8.1f} {row['deliveries_per_s']:8.0f} {row['p50_ms']:8.1f} "
                  f"{row['p99_ms']:8.1f} {row['max_ms']:8.1f} {row['missing']:8d} {row['recovered']:6d} "
                  f"{row['duplicates']:5d} {cpu[0]:5.0f}/{cpu[1]:<5.0f} {row['daphne_cpu_ms_per_delivery']:12.3f} "
                  f"{'/'.join(f'{c:.0f}' for c in row['client_cpu_pct']):>11}")
            if row["p99_ms"] < 100 and row["missing"] == 0 and row["open_sockets"] == connected:
                held = max(held, rate)
            time.sleep(1.0)
        figures["highest_rate_p99_under_100ms"] = held
        figures["rss_end_kib"] = [rss_kib(s.pid) for s in servers]
        print(f"highest rate held with p99 < 100 ms and nothing lost: {held:g} ev/s "
              f"({held * connected:.0f} deliveries/s to {connected} sockets)")
        print("daphne RSS at the end: " + ", ".join(f"{k / 1024:.1f} MiB" for k in figures["rss_end_kib"]))
        for p in pipes:
            p.send("stop")
            p.recv()
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        for s in servers:
            stop(s)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    raise SystemExit(main())
