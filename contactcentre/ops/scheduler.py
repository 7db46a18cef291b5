"""Periodic jobs on the embedded default.

Production runs ``settings.CELERY_BEAT_SCHEDULE`` with Celery beat and workers. Without Redis
there is no beat, so ``manage.py serve`` starts this thread, which runs the *same* schedule
in-process: one list of periodic jobs, two ways to run it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)
_started = threading.Event()


def _seconds(schedule: object) -> float:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    raise TypeError(f"the embedded scheduler runs interval schedules only, not {schedule!r}")


def run_due(due: dict[str, float], *, now: float) -> list[str]:
    """Run every entry whose time has come; returns their names (one pass, for tests too)."""
    from celery import current_app

    # Celery imports the apps' tasks modules when a worker starts; this process is no worker.
    current_app.loader.import_default_modules()
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        interval = _seconds(entry["schedule"])
        if now < due.setdefault(name, now + interval):
            continue
        due[name] = now + interval
        try:
            current_app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            ran.append(name)
        except Exception:
            log.exception("periodic job %s failed", name)
        finally:
            close_old_connections()
    return ran


def _loop() -> None:
    due: dict[str, float] = {}
    while True:
        run_due(due, now=time.monotonic())
        time.sleep(1.0)


def start_embedded() -> str:
    if not _started.is_set():
        _started.set()
        threading.Thread(target=_loop, name="embedded-scheduler", daemon=True).start()
    return f"Scheduler       in-process, {len(settings.CELERY_BEAT_SCHEDULE)} periodic jobs"
