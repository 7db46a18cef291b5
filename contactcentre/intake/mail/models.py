"""What the e-mail channel remembers beyond tickets and messages."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AutoReply(models.Model):
    """One automatic mail to a sender (a receipt or a knowledge-base answer).

    The per-sender rate limit counts these rows (loop safety), and a receipt's Message-ID is
    generated once here so a retried send carries the same id.
    """

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Mottagningskvitto"
        ANSWER = "answer", "Automatiskt svar"

    class Status(models.TextChoices):
        PENDING = "pending", "Skickas"
        SENT = "sent", "Skickat"
        FAILED = "failed", "Misslyckades"
        SKIPPED = "skipped", "Inte skickat"

    address = models.EmailField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=300, blank=True, db_index=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["address", "created_at"], name="mail_autoreply_addr_created")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address}"
