"""Resident memory: per connected agent websocket (daphne) and per Celery worker (prefork).

    .venv/bin/python bench/bench_memory.py              # 300 agent sockets, 200 jobs
    .venv/bin/python bench/bench_memory.py --quick      # 60 sockets, 40 jobs

* daphne (production settings, PostgreSQL ``bench_fanout``, Redis db 10, as bench_fanout.py):
  RSS after start, after 10 warm-up sockets (the first connections load code and fill caches),
  then after N more agent sockets -> KiB per socket = (after N - after warm-up) / N
  (bench_fanout.py prints each daphne's RSS under load, at the end of its run).
* Celery worker, ``--pool prefork --concurrency 2`` like ``make prod``: the parent and its
  children (counted from /proc), RSS and PSS (shared pages split between the processes) idle,
  then after a burst of real periodic jobs (``commitments.check``, ``mail.sweep``,
  ``complaints.sweep``) has been drained from the queue.

Figures depend on the machine; the benchmark prints them and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_fanout as fanout  # noqa: E402

JOBS = ["commitments.check", "mail.sweep", "complaints.sweep"]


def pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return sorted(out)


async def _connect(port: int, keys: list[str]) -> list:
    from websockets.asyncio.client import connect

    async def one(key: str):  # type: ignore[no-untyped-def]
        for attempt in range(6):
            try:
                ws = await connect(f"ws://127.0.0.1:{port}/ws/agent/", open_timeout=60, max_size=None,
                                   additional_headers={"Authorization": f"Token {key}"}, ping_interval=None)
                await asyncio.wait_for(ws.recv(), timeout=60)  # hello
                return ws
            except Exception:  # noqa: BLE001 - a refused handshake in a burst: again, later
                await asyncio.sleep(0.5 * 2 ** attempt)
        return None

    # Groups of 50: the figure is memory, not how fast a burst gets in.
    sockets = []
    for i in range(0, len(keys), 50):
        sockets += await asyncio.gather(*(one(k) for k in keys[i:i + 50]))
    return [s for s in sockets if s is not None]


def measure_daphne(n: int, database_url: str, redis_url: str, keys: list[str], var: Path) -> None:
    env = fanout.server_env(database_url, redis_url)
    port = 8121
    server = fanout.start_daphne(port, env, var / "memory-daphne.log")

    async def scenario() -> None:
        time.sleep(1.0)
        started = fanout.rss_kib(server.pid)
        warm = await _connect(port, keys[:10])
        await asyncio.sleep(2.0)
        after_warm = fanout.rss_kib(server.pid)
        rest = await _connect(port, keys[10:10 + n])
        await asyncio.sleep(3.0)  # the online-list flushes of the burst
        after = fanout.rss_kib(server.pid)
        connected = len(rest)
        print(f"daphne: started {started / 1024:.1f} MiB; 10 warm-up sockets {after_warm / 1024:.1f} MiB; "
              f"+{connected} agent sockets {after / 1024:.1f} MiB -> "
              f"{(after - after_warm) / max(1, connected):.1f} KiB per socket "
              f"(PSS {pss_kib(server.pid) / 1024:.1f} MiB)")
        for ws in warm + rest:
            await ws.close()
        await asyncio.sleep(2.0)
        print(f"daphne: after closing them all {fanout.rss_kib(server.pid) / 1024:.1f} MiB "
              "(CPython keeps freed memory in its arenas)")

    try:
        asyncio.run(scenario())
    finally:
        fanout.stop(server)


def measure_celery(n_jobs: int, database_url: str, redis_url: str, var: Path) -> None:
    import redis as redis_client

    env = fanout.server_env(database_url, redis_url)
    log = open(var / "memory-celery.log", "wb")  # noqa: SIM115 - closed with the process
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contactcentre", "worker", "--loglevel=WARNING", "--pool=prefork",
         "--concurrency=2", "--without-gossip", "--without-mingle", "-Q", "bench-memory"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    r = redis_client.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(children(worker.pid)) < 2:
            time.sleep(0.5)
        time.sleep(3.0)

        def show(label: str) -> None:
            kids = children(worker.pid)
            rss = [fanout.rss_kib(p) for p in [worker.pid, *kids]]
            pss = [pss_kib(p) for p in [worker.pid, *kids]]
            print(f"celery worker {label}: {len(kids)} children; RSS parent {rss[0] / 1024:.1f} MiB, children "
                  + ", ".join(f"{x / 1024:.1f}" for x in rss[1:]) + f" MiB (sum {sum(rss) / 1024:.1f} MiB); "
                  f"PSS sum {sum(pss) / 1024:.1f} MiB")

        show("idle")
        from contactcentre.celery import app

        started = time.monotonic()
        for i in range(n_jobs):
            app.send_task(JOBS[i % len(JOBS)], queue="bench-memory")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and r.llen("bench-memory"):
            time.sleep(0.2)
        time.sleep(2.0)  # the last ones finish
        print(f"celery worker: {n_jobs} jobs ({', '.join(JOBS)}) drained in {time.monotonic() - started:.1f}s "
              f"(queue left: {r.llen('bench-memory')})")
        show("after the burst")
    finally:
        fanout.stop(worker)
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sockets", type=int, default=None, help="agent sockets after the warm-up (default 300)")
    parser.add_argument("--jobs", type=int, default=None, help="jobs in the Celery burst (default 200)")
    args = parser.parse_args()
    n = args.sockets or (60 if args.quick else 300)
    n_jobs = args.jobs or (40 if args.quick else 200)
    database_url = os.environ.get("BENCH_DATABASE_URL", fanout.DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", fanout.DEFAULT_REDIS)
    var = Path(os.environ.get("CONTACTCENTRE_VAR_DIR", ROOT / "var")) / "bench-fanout"
    var.mkdir(parents=True, exist_ok=True)

    import redis as redis_client

    redis_client.Redis.from_url(redis_url).flushdb()
    fanout.ensure_database(database_url)
    fanout.django_setup(database_url, redis_url)
    keys, _driver, _tickets = fanout.prepare_data(n + 10)
    measure_daphne(n, database_url, redis_url, keys, var)
    measure_celery(n_jobs, database_url, redis_url, var)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
