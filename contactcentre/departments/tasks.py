"""Background jobs: escalation mail and webhook deliveries.

Webhook retries come from the outbox row, not from Celery's retry: each task run makes one
attempt and writes the next due time on the row; ``webhook_sweep_task`` (Celery beat, or the
embedded sweeper thread) picks due rows up. Retries survive a worker restart, and the embedded
mode, where tasks run eagerly inside the request, never sleeps or loops in a request.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections

from .services import escalation_email_send, webhook_deliveries_due, webhook_delivery_attempt

log = logging.getLogger(__name__)


@shared_task(name="departments.escalation_email", acks_late=True, autoretry_for=(smtplib.SMTPException, OSError),
             retry_backoff=30, retry_backoff_max=1800, retry_jitter=True, max_retries=6)
def escalation_email_task(ticket_id: int, department_id: int) -> int:
    return escalation_email_send(ticket_id=ticket_id, department_id=department_id)


@shared_task(name="departments.webhook_deliver", acks_late=True)
def webhook_deliver_task(delivery_id: str) -> str:
    return webhook_delivery_attempt(delivery_id=delivery_id).outcome


@shared_task(name="departments.webhook_sweep", acks_late=True)
def webhook_sweep_task() -> int:
    due = webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver_task.delay(delivery_id)
    return len(due)


def _sweep_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            close_old_connections()
            for delivery_id in webhook_deliveries_due():
                webhook_delivery_attempt(delivery_id=delivery_id)
        except Exception:  # noqa: BLE001 - the sweeper must outlive a bad round
            log.exception("webhook sweep failed")


def start_embedded() -> str:
    """`manage.py serve` without Redis: a daemon thread does what Celery beat does in production."""
    interval = float(settings.DEPARTMENT_WEBHOOK_SWEEP_S)
    threading.Thread(target=_sweep_forever, args=(interval,), name="webhook-sweeper", daemon=True).start()
    return f"department webhook retries every {interval:.0f} s"
