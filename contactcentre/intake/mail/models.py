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
    # The outbox lease: a send in progress pushes this ahead, so a second worker (a Celery
    # redelivery, the sweep) leaves the row alone until it runs out (the first worker died).
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["address", "created_at"], name="mail_autoreply_addr_created")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address}"


class QuarantinedMail(models.Model):
    """Inbound mail we accepted (SMTP 250) but could not, or would not, turn into a ticket:
    over a structural limit (parts, nesting, headers), or parsing or storing it failed for a
    reason a retry cannot fix. The exact bytes are kept in the database, in the same
    transaction as the row, so "250" is only said for something durably stored; an operator
    re-processes it after a fix (``manage.py mail_quarantine reprocess``, or the admin action).
    """

    class Status(models.TextChoices):
        QUARANTINED = "quarantined", "I karantän"
        REPROCESSED = "reprocessed", "Behandlat igen"
        DISCARDED = "discarded", "Kasserat"

    class Reason(models.TextChoices):
        TOO_MANY_PARTS = "too_many_parts", "För många MIME-delar"
        TOO_DEEP = "too_deep", "För djup nästling"
        TOO_MANY_HEADERS = "too_many_headers", "För många rubrikfält"
        PARSE_ERROR = "parse_error", "Kunde inte tolkas"
        STORE_ERROR = "store_error", "Kunde inte sparas"
        # IMAP only (SMTP refuses it with 552): the rubrics are kept here, the mail stays in the mailbox.
        TOO_LARGE = "too_large", "För stort"

    reason = models.CharField(max_length=20, choices=Reason.choices)
    detail = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUARANTINED, db_index=True)
    envelope_from = models.CharField(max_length=320, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    # From the headers as far as they could be read (never trusted for anything).
    header_from = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    raw = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    reprocessed_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "mail in quarantine"
        verbose_name_plural = "mail in quarantine"

    def __str__(self) -> str:
        return f"{self.get_reason_display()} from {self.envelope_from or self.header_from or '?'} ({self.size} B)"
