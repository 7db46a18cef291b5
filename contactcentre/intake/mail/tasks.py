"""Background jobs of the e-mail channel: retried with exponential backoff, then failed visibly."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from .outbound import email_delivery_failed, email_message_send
from .receipts import receipt_failed, receipt_send

# Temporary by nature: the mail server is away, slow or says "try later".
RETRYABLE = (smtplib.SMTPException, OSError, TimeoutError)
_RETRY: dict[str, Any] = {
    "autoretry_for": RETRYABLE,
    "retry_backoff": settings.EMAIL_SEND_RETRY_BACKOFF_S,  # 30 s, 60 s, 2 min, ... with jitter
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": settings.EMAIL_SEND_MAX_RETRIES,
}


class _EmailTask(Task):
    # Each concrete task names what makes a final failure visible (on the message, on the receipt).
    final_failure: Callable[[int, str], None]

    def on_failure(self, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        # Called once the retries are spent (or for an unexpected error): make it visible.
        type(self).final_failure(args[0] if args else kwargs.get("object_id"), f"{type(exc).__name__}: {exc}")


class _EmailSendTask(_EmailTask):
    final_failure = staticmethod(lambda object_id, error: email_delivery_failed(message_id=object_id, error=error))


class _ReceiptSendTask(_EmailTask):
    final_failure = staticmethod(lambda object_id, error: receipt_failed(receipt_id=object_id, error=error))


@shared_task(base=_EmailSendTask, name="mail.email_send", **_RETRY)
def email_send_task(object_id: int) -> str:
    return email_message_send(message_id=object_id)


@shared_task(base=_ReceiptSendTask, name="mail.receipt_send", **_RETRY)
def receipt_send_task(object_id: int) -> str:
    return receipt_send(receipt_id=object_id)


@shared_task(name="mail.sweep")
def sweep_task() -> dict[str, int]:
    """Queue again the receipts and replies still pending: a publish that failed (Redis away)
    or a worker killed mid-send left them as rows, and the sends are claimed under a lease, so
    queuing twice is harmless. A row that has used up its attempts (a worker killed again and
    again on it, say) is failed visibly instead of being queued forever."""
    from contactcentre.ops.jobs import enqueue
    from contactcentre.tickets.models import Channel, Message

    from .models import AutoReply
    from .outbound import max_attempts

    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.MAIL_SWEEP_AFTER_S)  # older than any publish in flight
    counts = {"receipts": 0, "replies": 0, "gave_up": 0}
    for receipt in (AutoReply.objects.filter(status=AutoReply.Status.PENDING, created_at__lt=cutoff)
                    .only("pk", "attempts", "sending_until")[:500]):
        if receipt.sending_until and receipt.sending_until > now:
            continue  # an attempt is running
        if receipt.attempts >= max_attempts():
            receipt_failed(receipt_id=receipt.pk, error=f"gave up after {receipt.attempts} attempts")
            counts["gave_up"] += 1
            continue
        enqueue(receipt_send_task, receipt.pk)
        counts["receipts"] += 1
    for pk, meta in (Message.objects.filter(channel=Channel.EMAIL, direction=Message.Direction.OUTBOUND,
                                            delivery_status=Message.Delivery.PENDING, created_at__lt=cutoff)
                     .values_list("pk", "meta")[:500]):
        state = (meta or {}).get("email_out") or {}
        if state.get("sending_until", "") > now.isoformat():
            continue
        attempts = int(state.get("attempts", 0))
        if attempts >= max_attempts():
            email_delivery_failed(message_id=pk, error=f"gave up after {attempts} attempts")
            counts["gave_up"] += 1
            continue
        enqueue(email_send_task, pk)
        counts["replies"] += 1
    return counts
