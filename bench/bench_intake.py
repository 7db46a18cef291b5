"""Intake throughput: our web, e-mail and CTI intake beside django-helpdesk and a bare DRF ceiling.

Run with ``.venv/bin/python bench/bench_intake.py`` (``--quick`` for a smoke run, ``--help`` for
the options). Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on
127.0.0.1:6379; it drops and recreates the databases ``bench_cc``, ``bench_helpdesk`` and
``bench_ceiling`` and flushes Redis db 9 (``--redis-db``).

What runs (all on this machine, loopback, production settings for ours):

* **ours**: ``CONTACTCENTRE_ENV=production`` on PostgreSQL ``bench_cc`` and Redis db 9, the web
  tier as chosen by ``--server`` (default: the topology of ``scripts/prod.sh``), a Celery worker
  and beat, and the SMTP listener (``manage.py run_smtp_intake``); the knowledge base is the
  repository's demo knowledge base, so the router answers, escalates and hands over as it would.
* **helpdesk**: django-helpdesk 2.6.1 (its own venv in ``var/bench/helpdesk-venv``), REST API
  ``POST /helpdesk/api/tickets/`` with DRF token auth, gunicorn with 2 sync workers.
* **ceiling**: ``bench/ceiling`` - Django + DRF, one serializer, one INSERT - gunicorn, 2 sync workers.

Workloads (each with every ``--clients`` value, closed loop, ``--duration`` seconds):
``web`` (POST /api/v1/intake/web/), ``email`` (SMTP sessions to the listener), ``cti`` (signed
``call.ended`` events with a summary, POST /api/v1/intake/phone/), ``helpdesk`` (the same web
ticket to the peer) and ``ceiling``. Requests come from distinct resident addresses
(``X-Forwarded-For``, as nginx would pass them), so the per-address intake throttle does not
refuse them; behind nginx every request also carries ``X-Forwarded-Proto: https``.

After every phase the database is counted: every acknowledged ticket must exist exactly once and
nothing may be stored that was not acknowledged (an error that stored something shows up here).
The load generator (bench/loadgen.py) runs on the same two cores as everything else.

Figures are printed, never asserted. The exit code is 0 when every phase ran and the database
agreed with the acknowledgements, 1 when it did not, 2 when the setup failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import loadgen, peer_helpdesk  # noqa: E402
from bench.loadgen import PhaseResult  # noqa: E402

PG = "postgres://postgres@127.0.0.1:5432"
DEV_ENQUIRIES = ROOT.parent / "shared" / "routing-dev" / "enquiries.jsonl"
KNOWLEDGE_DIR = ROOT / "knowledge" / "demo"
SECRET = "bench-secret-key-0123456789-not-for-production-use-abcdefghij"
CTI_SECRET = "bench-cti-secret"
MAIL_SECRET = "bench-mail-secret"
INTAKE_ADDRESS = "kontakt@solna.example.org"
# Peer figures (PITFALLS.md / issue #8) and the targets of issue #8.
TARGET_VS_PEER = 5.0
TARGET_VS_CEILING = 0.6
TARGET_P99_MS = 100.0
CPU_BREAKDOWN = False  # --cpu-breakdown: CPU per process after each phase

FALLBACK_TEXTS = [
    ("Attefallshus", "Hur stort får ett attefallshus vara? Behöver jag bygglov för ett på 30 kvadratmeter?"),
    ("Sophämtning", "Vårt sopkärl har inte tömts på två veckor. Vem ska jag kontakta?"),
    ("Bygglov", "Hur går det med dnr BYGG 2026-0412? Vi väntar fortfarande på besked."),
    ("Parkering", "I want to apply for a parking permit for disabled people. How do I do that?"),
    ("Förskola", "Hur ansöker jag om förskoleplats och hur lång är kön just nu?"),
    ("Klagomål", "Jag är mycket missnöjd med bemötandet jag fick på telefon i går. Ingen ringde tillbaka."),
]


def log(msg: str) -> None:
    print(msg, flush=True)


def enquiry_texts() -> list[tuple[str, str]]:
    """Real enquiries of the routing development split when it is there (a mix the router
    answers, escalates and hands over), else a small built-in mix."""
    if DEV_ENQUIRIES.exists():
        texts = []
        for line in DEV_ENQUIRIES.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            text: str = item["text"]
            subject = ""
            if text.startswith("Ämne:"):
                first, _, text = text.partition("\n")
                subject = first.removeprefix("Ämne:").strip()
            texts.append((subject or text.strip().split("\n")[0][:60], text.strip()))
        return texts
    return FALLBACK_TEXTS


# --- processes -------------------------------------------------------------------------------

class Processes:
    """Every process the benchmark starts, stopped (by pid) when it ends."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], *, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        out.close()
        self.procs.append((name, proc))
        return proc

    def check(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}")

    def cpu_seconds(self, prefix: str) -> float:
        """User + system CPU of the named processes and everything in their sessions (gunicorn
        and Celery children), from /proc: less sensitive to a loaded machine than wall time."""
        groups = {proc.pid for name, proc in self.procs if name.startswith(prefix)}
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # After the command: state ppid pgrp session ... utime(12) stime(13) cutime(14) cstime(15)
            if int(fields[3]) in groups:
                total += sum(int(f) for f in fields[11:15])
        return total / tick

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, procs: Processes, timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def run_checked(args: list[str], *, env: dict[str, str], cwd: Path = ROOT, timeout: float = 300) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return proc.stdout


# --- databases -------------------------------------------------------------------------------

def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Counter:
    """Row counts straight from PostgreSQL (no Django), for the after-phase check."""

    def __init__(self, database: str) -> None:
        import psycopg

        self.conn = psycopg.connect(f"{PG}/{database}", autocommit=True)

    def scalar(self, sql: str, params: tuple = ()) -> int:
        row = self.conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0

    def backends(self) -> int:
        return self.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")

    def close(self) -> None:
        self.conn.close()


# --- the systems -----------------------------------------------------------------------------

@dataclass
class Ours:
    web: list[tuple[str, int]]
    smtp_port: int
    env: dict[str, str]
    counter: Counter


def ours_env(args: argparse.Namespace, bench_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "contactcentre.settings",
        "CONTACTCENTRE_ENV": "production",
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": "https://kontakt.example.org",
        "DATABASE_URL": f"{PG}/bench_cc",
        "REDIS_URL": f"redis://127.0.0.1:6379/{args.redis_db}",
        "CHANNEL_PREFIX": "ccbench",
        "EMAIL_INTAKE_SECRET": MAIL_SECRET,
        "CTI_WEBHOOK_SECRET": CTI_SECRET,
        # Outbound mail (receipts, automatic answers) is rendered and handed to a backend that
        # drops it, as the peer's is: no relay on this machine.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "CONTACTCENTRE_VAR_DIR": str(bench_dir / "cc-var"),
        "SMTP_INTAKE_EMBEDDED": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def web_tier_args(server: str, *, ports: list[int], workers: int) -> list[tuple[str, list[str]]]:
    """The web processes for ``--server`` (each listens on one of ``ports``)."""
    py = sys.executable
    if server == "daphne":
        return [(f"web{i + 1}", [py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--proxy-headers",
                                 "contactcentre.asgi:application"]) for i, port in enumerate(ports)]
    if server == "uvicorn":
        return [("web", [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{ports[0]}", "--workers", str(workers),
                         "--worker-class", "uvicorn.workers.UvicornWorker", "--log-level", "warning",
                         "contactcentre.asgi:application"])]
    if server == "gunicorn":
        return [("web", [py, "-m", "gunicorn", "--bind", f"127.0.0.1:{ports[0]}", "--workers", str(workers),
                         "--worker-class", "sync", "--log-level", "warning", "contactcentre.wsgi:application"])]
    raise ValueError(server)


def start_ours(args: argparse.Namespace, bench_dir: Path, procs: Processes) -> Ours:
    env = ours_env(args, bench_dir)
    recreate_database("bench_cc")
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    py = sys.executable
    run_checked([py, "manage.py", "migrate", "--noinput"], env=env)
    run_checked([py, "manage.py", "import_knowledge", str(KNOWLEDGE_DIR)], env=env)
    n_ports = args.web_workers if args.server == "daphne" else 1
    ports = [free_port() for _ in range(n_ports)]
    for name, cmd in web_tier_args(args.server, ports=ports, workers=args.web_workers):
        procs.start(f"ours-{name}", cmd, env=env)
    procs.start("ours-worker", [py, "-m", "celery", "-A", "contactcentre", "worker", "--loglevel=WARNING",
                                "--concurrency=2", "--without-gossip", "--without-mingle"], env=env)
    procs.start("ours-beat", [py, "-m", "celery", "-A", "contactcentre", "beat", "--loglevel=WARNING",
                              "--schedule", str(bench_dir / "cc-var" / "celerybeat-schedule")], env=env)
    smtp_port = free_port()
    procs.start("ours-smtp", [py, "manage.py", "run_smtp_intake", "--port", str(smtp_port)], env=env)
    for port in [*ports, smtp_port]:
        wait_for_port(port, procs)
    return Ours(web=[("127.0.0.1", p) for p in ports], smtp_port=smtp_port, env=env, counter=Counter("bench_cc"))


@dataclass
class Peer:
    port: int
    token: str
    queue: int
    counter: Counter


def start_peer(args: argparse.Namespace, bench_dir: Path, procs: Processes) -> Peer:
    recreate_database("bench_helpdesk")
    python, token, queue = peer_helpdesk.prepare(bench_dir, "bench_helpdesk", log=log)
    port = free_port()
    procs.start("helpdesk", peer_helpdesk.gunicorn_args(python, port=port, workers=args.web_workers),
                env=peer_helpdesk.project_env(bench_dir.resolve(), "bench_helpdesk"),
                cwd=bench_dir.resolve() / "helpdesk-project")
    wait_for_port(port, procs)
    return Peer(port=port, token=token, queue=queue, counter=Counter("bench_helpdesk"))


@dataclass
class Ceiling:
    port: int
    counter: Counter


def start_ceiling(args: argparse.Namespace, procs: Processes) -> Ceiling:
    recreate_database("bench_ceiling")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "bench.ceiling.settings", "DATABASE_URL": f"{PG}/bench_ceiling"})
    run_checked([sys.executable, "-m", "django", "migrate", "--run-syncdb", "--noinput"], env=env)
    port = free_port()
    procs.start("ceiling", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                            str(args.web_workers), "--worker-class", "sync", "--log-level", "warning",
                            "bench.ceiling.wsgi:application"], env=env)
    wait_for_port(port, procs)
    return Ceiling(port=port, counter=Counter("bench_ceiling"))


# --- workloads -------------------------------------------------------------------------------

def _resident_ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def _json_ack(status_ok: int, key: str) -> Callable[[int, bytes], str | None]:
    def parse(status: int, body: bytes) -> str | None:
        if status != status_ok:
            return None
        try:
            value = json.loads(body).get(key)
        except (ValueError, AttributeError):
            return None
        return str(value) if value not in (None, "", False) else None

    return parse


def _cti_ack(status: int, body: bytes) -> str | None:
    if status != 200:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data["ticket"] if data.get("ticket_created") and data.get("ticket") else None


_SMTP_REF = re.compile(r"OK stored (\S+)")


def _smtp_ack(code: int, text: str) -> str | None:
    match = _SMTP_REF.search(text) if code == 250 else None
    return match.group(1) if match else None


@dataclass
class Workload:
    name: str
    system: str  # ours, helpdesk, ceiling
    run: Callable[[int, float, str], PhaseResult]  # (clients, duration, tag) -> result
    count: Callable[[], int]  # rows that one acknowledged request creates
    exists: Callable[[list[str]], int] | None = None  # how many of the acks exist in the database
    backends: Callable[[], int] | None = None  # PostgreSQL sessions of the system right now


def workloads(ours: Ours | None, peer: Peer | None, ceiling: Ceiling | None) -> list[Workload]:
    texts = enquiry_texts()
    seq = itertools.count(1)
    out: list[Workload] = []

    def pick(n: int) -> tuple[str, str]:
        return texts[n % len(texts)]

    def web_body(n: int, tag: str) -> dict[str, str]:
        subject, message = pick(n)
        return {"name": f"Invånare {n}", "email": f"invanare-{tag}-{n}@example.org", "subject": subject[:300],
                "message": message, "language": ""}

    if ours is not None:
        def web(clients: int, duration: float, tag: str) -> PhaseResult:
            def make(n: int) -> tuple[str, dict[str, str], bytes]:
                return ("/api/v1/intake/web/", {"Content-Type": "application/json", "X-Forwarded-For": _resident_ip(n),
                                                "X-Forwarded-Proto": "https"},
                        json.dumps(web_body(n, tag)).encode())
            return asyncio.run(loadgen.run_http(targets=ours.web, clients=clients, duration_s=duration,
                                                make_request=make, parse_ack=_json_ack(201, "reference"), counter=seq))

        def email(clients: int, duration: float, tag: str) -> PhaseResult:
            def make(n: int) -> tuple[str, str, bytes]:
                subject, message = pick(n)
                sender = f"invanare-{tag}-{n}@example.org"
                # RFC 2047: the display name is encoded, as every mail client does.
                raw = (f"From: {formataddr((f'Invånare {n}', sender), charset='utf-8')}\r\nTo: {INTAKE_ADDRESS}\r\nSubject: {Header(subject, 'utf-8').encode()}\r\n"
                       f"Message-ID: <bench-{tag}-{n}@example.org>\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
                       "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                       + message.replace("\n", "\r\n") + "\r\n")
                return sender, INTAKE_ADDRESS, raw.encode("utf-8")
            return asyncio.run(loadgen.run_smtp(host="127.0.0.1", port=ours.smtp_port, clients=clients, duration_s=duration,
                                                make_mail=make, parse_ack=_smtp_ack, counter=seq))

        def cti(clients: int, duration: float, tag: str) -> PhaseResult:
            def make(n: int) -> tuple[str, dict[str, str], bytes]:
                subject, message = pick(n)
                body = json.dumps({"event": "call.ended", "call_id": f"bench-{tag}-{n}", "caller": f"+4670{n % 10_000_000:07d}",
                                   "called": "+468734200", "summary": message, "subject": subject[:300],
                                   "outcome": "informed", "duration_seconds": 120}).encode()
                ts = str(int(time.time()))
                sig = hmac.new(CTI_SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                return ("/api/v1/intake/phone/", {"Content-Type": "application/json", "X-CC-Timestamp": ts,
                                                  "X-CC-Signature": f"sha256={sig}", "X-Forwarded-Proto": "https"}, body)
            return asyncio.run(loadgen.run_http(targets=ours.web, clients=clients, duration_s=duration,
                                                make_request=make, parse_ack=_cti_ack, counter=seq))

        def tickets_of(channel: str) -> Callable[[], int]:
            return lambda: ours.counter.scalar("SELECT count(*) FROM tickets_ticket WHERE channel = %s", (channel,))

        def refs_exist(acks: list[str]) -> int:
            return ours.counter.scalar("SELECT count(*) FROM tickets_ticket WHERE reference = ANY(%s)", (list(set(acks)),))

        out += [Workload("web", "ours", web, tickets_of("web"), refs_exist, ours.counter.backends),
                Workload("email", "ours", email, tickets_of("email"), refs_exist, ours.counter.backends),
                Workload("cti", "ours", cti, tickets_of("phone"), refs_exist, ours.counter.backends)]

    if peer is not None:
        def helpdesk(clients: int, duration: float, tag: str) -> PhaseResult:
            def make(n: int) -> tuple[str, dict[str, str], bytes]:
                b = web_body(n, tag)
                body = {"queue": peer.queue, "title": b["subject"][:200] or "Fråga", "description": b["message"],
                        "submitter_email": b["email"], "priority": 3}
                return ("/helpdesk/api/tickets/", {"Content-Type": "application/json",
                                                    "Authorization": f"Token {peer.token}"}, json.dumps(body).encode())
            return asyncio.run(loadgen.run_http(targets=[("127.0.0.1", peer.port)], clients=clients, duration_s=duration,
                                                make_request=make, parse_ack=_json_ack(201, "id"), counter=seq))

        out.append(Workload(
            "helpdesk", "helpdesk", helpdesk, lambda: peer.counter.scalar("SELECT count(*) FROM helpdesk_ticket"),
            lambda acks: peer.counter.scalar("SELECT count(*) FROM helpdesk_ticket WHERE id = ANY(%s)",
                                             ([int(a) for a in set(acks)],)), peer.counter.backends))

    if ceiling is not None:
        def bare(clients: int, duration: float, tag: str) -> PhaseResult:
            def make(n: int) -> tuple[str, dict[str, str], bytes]:
                b = web_body(n, tag)
                body = {"name": b["name"], "email": b["email"], "subject": b["subject"], "message": b["message"]}
                return ("/items/", {"Content-Type": "application/json"}, json.dumps(body).encode())
            return asyncio.run(loadgen.run_http(targets=[("127.0.0.1", ceiling.port)], clients=clients, duration_s=duration,
                                                make_request=make, parse_ack=_json_ack(201, "id"), counter=seq))

        out.append(Workload(
            "ceiling", "ceiling", bare, lambda: ceiling.counter.scalar("SELECT count(*) FROM ceiling_item"),
            lambda acks: ceiling.counter.scalar("SELECT count(*) FROM ceiling_item WHERE id = ANY(%s)",
                                                ([int(a) for a in set(acks)],)), ceiling.counter.backends))
    return out


# --- one phase -------------------------------------------------------------------------------

@dataclass
class Phase:
    workload: str
    clients: int
    run: int
    result: PhaseResult
    stored: int  # rows the phase added
    acked_unique: int
    acked_found: int
    drain_s: float = 0.0
    cpu_s: float = 0.0  # CPU the system's processes used for the phase (incl. the drain)
    pg_sessions: int = 0  # the system's PostgreSQL sessions at the end of the load
    problems: list[str] = field(default_factory=list)

    @property
    def cpu_ms_per_ticket(self) -> float:
        return self.cpu_s * 1000 / self.result.ok if self.result.ok else float("nan")


def queue_depth(ours: Ours | None) -> int:
    if ours is None:
        return 0
    import redis

    client = redis.Redis.from_url(ours.env["REDIS_URL"])
    try:
        return int(client.llen("celery"))
    finally:
        client.close()


def drain(ours: Ours | None, timeout: float) -> float:
    """Let the Celery worker finish the jobs the phase queued (receipts, answers), so their CPU
    does not land on the next phase. Bounded: what is left is reported, not waited for."""
    start = time.monotonic()
    while time.monotonic() - start < timeout and queue_depth(ours) > 0:
        time.sleep(0.2)
    return time.monotonic() - start


def run_phase(w: Workload, *, clients: int, duration: float, run: int, ours: Ours | None, drain_s: float,
              procs: Processes) -> Phase:
    tag = f"{w.name}{clients}r{run}t{int(time.time() * 1000) % 10_000_000}"
    before = w.count()
    cpu_before = procs.cpu_seconds(w.system)
    by_name = {name: procs.cpu_seconds(name) for name, _ in procs.procs}
    result = w.run(clients, duration, tag)
    connections = w.backends() if w.backends else 0
    waited = drain(ours, drain_s)
    cpu = procs.cpu_seconds(w.system) - cpu_before
    if CPU_BREAKDOWN:
        log("    cpu by process: " + ", ".join(f"{name} {procs.cpu_seconds(name) - by_name[name]:.2f}s"
                                            for name, _ in procs.procs))
    stored = w.count() - before
    unique = len(set(result.acks))
    found = w.exists(result.acks) if w.exists else unique
    phase = Phase(w.name, clients, run, result, stored, unique, found, waited, cpu, connections)
    if unique != len(result.acks):
        phase.problems.append(f"{len(result.acks) - unique} acknowledgements repeat another's id")
    if found != unique:
        phase.problems.append(f"{unique - found} acknowledged tickets are missing from the database")
    if stored != unique:
        phase.problems.append(f"{stored} rows stored for {unique} acknowledgements")
    return phase


# --- report ----------------------------------------------------------------------------------

def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def summarise(phases: list[Phase], name: str, clients: int) -> dict[str, float] | None:
    mine = [p for p in phases if p.workload == name and p.clients == clients]
    if not mine:
        return None
    return {
        "rate": median([p.result.rate for p in mine]),
        "p50": median([p.result.pct(0.50) for p in mine]),
        "p95": median([p.result.pct(0.95) for p in mine]),
        "p99": median([p.result.pct(0.99) for p in mine]),
        "cpu": median([p.cpu_ms_per_ticket for p in mine]),
        "errors": sum(p.result.errors for p in mine),
        "ok": sum(p.result.ok for p in mine),
        "runs": len(mine),
        "rates": [p.result.rate for p in mine],
    }


def report(phases: list[Phase], clients_list: list[int], args: argparse.Namespace) -> None:
    names = ["web", "email", "cti", "helpdesk", "ceiling"]
    label = {"web": "ours web (HTTP)", "email": "ours e-mail (SMTP)", "cti": "ours CTI (HTTP)",
             "helpdesk": "django-helpdesk REST", "ceiling": "bare Django+DRF insert"}
    runs = max((p.run for p in phases), default=0) + 1
    print()
    print(f"Intake throughput — medians of {runs} run(s) of {args.duration:g} s, server={args.server}, "
          f"{args.web_workers} web workers each, load generator on the same 2 cores")
    print(f"{'workload':26} {'clients':>7} {'tickets/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'acked':>7} {'cpu ms':>7}  runs (tickets/s)")
    for clients in clients_list:
        for name in names:
            s = summarise(phases, name, clients)
            if s is None:
                continue
            runs_txt = " ".join(f"{r:.0f}" for r in s["rates"])
            print(f"{label[name]:26} {clients:>7} {s['rate']:>10.1f} {s['p50']:>8.1f} {s['p95']:>8.1f} "
                  f"{s['p99']:>8.1f} {s['errors']:>6} {s['ok']:>7} {s['cpu']:>7.1f}  {runs_txt}")
    print("cpu ms = CPU time of the system's own processes (web, worker, SMTP listener; not PostgreSQL,\n"
          "Redis or the load generator) per acknowledged ticket, including the Celery jobs it queued.")
    print()
    print("Targets (issue #8):")
    for clients in clients_list:
        web = summarise(phases, "web", clients)
        peer = summarise(phases, "helpdesk", clients)
        ceil = summarise(phases, "ceiling", clients)
        if web is None:
            continue
        if peer is not None and peer["rate"] > 0:
            ratio = web["rate"] / peer["rate"]
            print(f"  {clients:>3} clients  ours web / helpdesk = {ratio:5.2f}x  (target >= {TARGET_VS_PEER:g}x)  "
                  f"{'MET' if ratio >= TARGET_VS_PEER else 'NOT MET'}")
        if ceil is not None and ceil["rate"] > 0:
            ratio = web["rate"] / ceil["rate"]
            print(f"  {clients:>3} clients  ours web / ceiling  = {ratio:5.2f}   (target >= {TARGET_VS_CEILING:g})   "
                  f"{'MET' if ratio >= TARGET_VS_CEILING else 'NOT MET'}")
    for name in ("web", "email", "cti"):
        s = summarise(phases, name, 16)
        if s is not None:
            print(f"   16 clients  {label[name]:20} p99 = {s['p99']:6.1f} ms (target < {TARGET_P99_MS:g} ms)  "
                  f"{'MET' if s['p99'] < TARGET_P99_MS else 'NOT MET'}")
    errors = sum(p.result.errors for p in phases if p.workload in ("web", "email", "cti"))
    print(f"  ours: {errors} errors in all phases (target 0)  {'MET' if errors == 0 else 'NOT MET'}")
    problems = [(p, msg) for p in phases for msg in p.problems]
    if problems:
        print("\nDatabase check FAILED:")
        for p, msg in problems:
            print(f"  {p.workload} {p.clients} clients run {p.run + 1}: {msg}")
    else:
        print("\nDatabase check: every acknowledged ticket exists exactly once, nothing stored unacknowledged.")
    error_kinds: dict[str, int] = {}
    for p in phases:
        for kind, n in p.result.error_kinds.items():
            error_kinds[f"{p.workload}: {kind}"] = error_kinds.get(f"{p.workload}: {kind}", 0) + n
    if error_kinds:
        print("Errors by kind: " + ", ".join(f"{k} x{n}" for k, n in sorted(error_kinds.items())))
    slow_drains = [p for p in phases if p.drain_s > 0.5]
    if slow_drains:
        print("Celery backlog after a phase (s waited): " + ", ".join(
            f"{p.workload}/{p.clients}/r{p.run + 1} {p.drain_s:.1f}" for p in slow_drains))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 run of 3 s, 16 clients")
    parser.add_argument("--runs", type=int, default=None, help="runs per phase; the table shows medians (default 3)")
    parser.add_argument("--duration", type=float, default=None, help="seconds per phase (default 5)")
    parser.add_argument("--clients", default=None, help="comma-separated concurrent clients (default 16,64)")
    parser.add_argument("--skip-peer", action="store_true", help="do not install or run django-helpdesk")
    parser.add_argument("--only", default="", help="comma-separated workloads (web,email,cti,helpdesk,ceiling)")
    parser.add_argument("--server", choices=["daphne", "uvicorn", "gunicorn"], default="daphne",
                        help="our web tier: daphne instances (prod.sh), gunicorn+uvicorn workers, or gunicorn sync (WSGI)")
    parser.add_argument("--web-workers", type=int, default=2, help="web processes of each system (default 2)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds of unmeasured load per workload first")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--drain", type=float, default=20.0, help="max seconds to wait for the Celery queue after a phase")
    parser.add_argument("--cpu-breakdown", action="store_true", help="print each process's CPU seconds after each phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = args.runs or 1
        args.duration = args.duration or 3.0
        args.clients = args.clients or "16"
        args.warmup = 1.0 if args.warmup is None else args.warmup
    args.runs = args.runs or 3
    args.duration = args.duration or 5.0
    args.clients = args.clients or "16,64"
    args.warmup = 2.0 if args.warmup is None else args.warmup
    return args


def missing_servers(args: argparse.Namespace) -> list[str]:
    import importlib.util

    needed = ["gunicorn"] + (["uvicorn"] if args.server == "uvicorn" else [])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    global CPU_BREAKDOWN
    args = parse_args(argv)
    # Stop cleanly (every started process ended) on Ctrl-C and on SIGTERM, also in the background.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    CPU_BREAKDOWN = args.cpu_breakdown
    if missing := missing_servers(args):
        log(f"missing {', '.join(missing)}: .venv/bin/pip install -e '.[bench]'")
        return 2
    clients_list = [int(c) for c in args.clients.split(",") if c.strip()]
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    var = Path(os.environ.get("CONTACTCENTRE_VAR_DIR", ROOT / "var"))
    bench_dir = var / "bench"
    log_dir = bench_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    (bench_dir / "cc-var").mkdir(exist_ok=True)
    started = time.monotonic()
    procs = Processes(log_dir)
    phases: list[Phase] = []
    counters: list[Counter] = []
    try:
        def want(name: str) -> bool:
            return not only or name in only

        log("setting up (databases, migrations, processes; logs in " + str(log_dir) + ")")
        ours = start_ours(args, bench_dir, procs) if want("web") or want("email") or want("cti") else None
        ceiling = start_ceiling(args, procs) if want("ceiling") else None
        peer = start_peer(args, bench_dir, procs) if want("helpdesk") and not args.skip_peer else None
        counters = [s.counter for s in (ours, peer, ceiling) if s is not None]
        loads = [w for w in workloads(ours, peer, ceiling) if want(w.name)]
        log(f"ready after {time.monotonic() - started:.0f} s")
        if args.warmup > 0:
            # Every web worker of every system serves some requests before anything is measured.
            for w in loads:
                w.run(max(clients_list), args.warmup, f"warm{w.name}")
            drain(ours, args.drain)
        for run in range(args.runs):
            for clients in clients_list:
                # Interleaved, so a noisy moment on the shared machine hits every system alike.
                for w in loads:
                    procs.check()
                    phase = run_phase(w, clients=clients, duration=args.duration, run=run, ours=ours, drain_s=args.drain,
                                      procs=procs)
                    phases.append(phase)
                    r = phase.result
                    log(f"  run {run + 1} {w.name:9} {clients:>3} clients: {r.rate:7.1f}/s  p50 {r.pct(0.5):6.1f}  "
                        f"p99 {r.pct(0.99):7.1f} ms  errors {r.errors}  stored {phase.stored}  "
                        f"cpu {phase.cpu_ms_per_ticket:5.1f} ms/ticket  pg sessions {phase.pg_sessions}"
                        + (f"  PROBLEM: {'; '.join(phase.problems)}" if phase.problems else ""))
    except (RuntimeError, TimeoutError, OSError, subprocess.SubprocessError) as exc:
        log(f"setup or run failed: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted; stopping the processes")
        return 130
    finally:
        procs.stop()
        for c in counters:
            c.close()
    report(phases, clients_list, args)
    print(f"\n(total {time.monotonic() - started:.0f} s; figures from a shared 2-core machine are noisy)")
    return 1 if any(p.problems for p in phases) else 0


if __name__ == "__main__":
    sys.exit(main())
