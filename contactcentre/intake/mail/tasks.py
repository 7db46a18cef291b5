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
    "retry_backoff": 30,  # 30 s, 60 s, 2 min, ... with jitter
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


SWEEP_AFTER = timedelta(minutes=2)  # older than any publish in flight


@shared_task(name="mail.sweep")
def sweep_task() -> dict[str, int]:
    """Queue again the receipts and replies still pending: a publish that failed (Redis away)
    left them as rows, and the send tasks are send-once, so queuing twice is harmless."""
    from contactcentre.ops.jobs import enqueue
    from contactcentre.tickets.models import Channel, Message

    from .models import AutoReply

    cutoff = timezone.now() - SWEEP_AFTER
    receipts = list(AutoReply.objects.filter(status=AutoReply.Status.PENDING, created_at__lt=cutoff)
                    .values_list("pk", flat=True)[:500])
    replies = list(Message.objects.filter(channel=Channel.EMAIL, direction=Message.Direction.OUTBOUND,
                                          delivery_status=Message.Delivery.PENDING, created_at__lt=cutoff)
                   .values_list("pk", flat=True)[:500])
    for pk in receipts:
        enqueue(receipt_send_task, pk)
    for pk in replies:
        enqueue(email_send_task, pk)
    return {"receipts": len(receipts), "replies": len(replies)}
