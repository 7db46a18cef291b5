"""Background jobs of the e-mail channel: retried with exponential backoff, then failed visibly."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import Task, shared_task
from django.conf import settings

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
    def on_failure(self, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        # Called once the retries are spent (or for an unexpected error): make it visible.
        self.final_failure(args[0] if args else kwargs.get("object_id"), f"{type(exc).__name__}: {exc}")

    def final_failure(self, object_id: int, error: str) -> None:
        raise NotImplementedError


class _EmailSendTask(_EmailTask):
    def final_failure(self, object_id: int, error: str) -> None:
        email_delivery_failed(message_id=object_id, error=error)


class _ReceiptSendTask(_EmailTask):
    def final_failure(self, object_id: int, error: str) -> None:
        receipt_failed(receipt_id=object_id, error=error)


@shared_task(base=_EmailSendTask, name="mail.email_send", **_RETRY)
def email_send_task(object_id: int) -> str:
    return email_message_send(message_id=object_id)


@shared_task(base=_ReceiptSendTask, name="mail.receipt_send", **_RETRY)
def receipt_send_task(object_id: int) -> str:
    return receipt_send(receipt_id=object_id)
