"""Real processes for integration tests: a private redis-server and daphne servers."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _output(log) -> str:  # type: ignore[no-untyped-def]
    if log is None:
        return ""
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None, log=None) -> None:  # type: ignore[no-untyped-def]
    """``log``: the file the process writes to (read back when it exits early). Servers write to a
    file, never to a pipe nobody reads: a chatty server would block on a full pipe mid-test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{_output(log)[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def redis_url_for_tests() -> Iterator[str]:
    """The suite's Redis: ``REDIS_URL`` when set (CI: it must be up), else a private server."""
    if settings.REDIS_URL:
        yield settings.REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, proc=proc, log=log)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def database_url_of_test_db() -> str:
    """The URL of the database the test run uses (pytest-django's test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@contextmanager
def server_process(args: list[str], *, env: dict[str, str], port: int, timeout: float = 30) -> Iterator[int]:
    """Run ``python <args>`` from the repository until the block ends; yields once it listens."""
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contactcentre.settings", **env}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc, timeout=timeout, log=log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@contextmanager
def daphne_server(*, env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    args = ["-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "contactcentre.asgi:application"]
    with server_process(args, env=env, port=port) as ready:
        yield ready
