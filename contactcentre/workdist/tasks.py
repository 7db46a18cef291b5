"""The periodic distribution pass: offer expiries, triggers that were missed (a crashed
process, a dropped on-commit hook) and consoles that vanished without closing.

Production: Celery beat runs ``workdist.tasks.tick`` every ``WORKDIST_TICK_S`` seconds.
Embedded default (no Redis): ``start_embedded`` runs the same pass in a daemon thread of the
web process (listed in ``EMBEDDED_SERVICES``), so offers expire with nothing else running.
"""

from __future__ import annotations

import logging
import threading

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, connections

from .services import workdist_dispatch_pending_clear, workdist_dispatch_safely, workdist_tick

log = logging.getLogger(__name__)


@shared_task(name="workdist.tasks.tick", ignore_result=True)
def tick() -> dict[str, int]:
    result = workdist_tick()
    return {"offered": len(result.offered), "expired": len(result.expired), "withdrawn": len(result.withdrawn)}


@shared_task(name="workdist.tasks.dispatch", ignore_result=True)
def dispatch() -> None:
    """A pass requested after a commit (``workdist_dispatch_requested``)."""
    workdist_dispatch_pending_clear()
    workdist_dispatch_safely()


_stop = threading.Event()


def _loop(interval: float) -> None:
    while not _stop.wait(interval):
        close_old_connections()
        try:
            workdist_tick()
        except Exception:  # noqa: BLE001 - the loop must outlive a bad pass (database restart, ...)
            log.exception("work distribution tick failed")
        finally:
            connections.close_all()


def start_embedded() -> str:
    """For ``manage.py serve``: the tick in a daemon thread beside daphne."""
    interval = float(getattr(settings, "WORKDIST_TICK_S", 2))
    thread = threading.Thread(target=_loop, args=(interval,), name="workdist-tick", daemon=True)
    thread.start()
    return f"Work distribution tick every {interval:g} s"
