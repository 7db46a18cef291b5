"""Handing work to the background-job queue without ever blocking or failing the caller.

The work itself is already durable (a pending receipt, a pending outbound message, a webhook
outbox row), so publishing is only a wake-up call: it is bounded by the broker socket timeouts in
settings, never retried in the request, and a failure is logged. Periodic sweeps re-queue what a
failed publish left pending (e.g. ``mail.sweep``), so a stalled Redis delays work, never loses it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # noqa: BLE001 - the durable row is picked up by the sweep
        log.warning("could not queue %s%r; the periodic sweep will", task.name, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    # robust: a failing wake-up must not turn a committed change into an error response.
    transaction.on_commit(lambda: enqueue(task, *args), robust=True)
