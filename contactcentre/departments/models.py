"""How departments hear about escalations and answer back.

``DepartmentWebhook``: a department's case-management system that wants escalations as signed
HTTP posts. ``WebhookDelivery``: the transactional outbox (one row per event and endpoint,
written in the escalating transaction, delivered after commit and retried from the row).
``DepartmentApiKey``: lets that system answer the resident through the API, acting as the
department's integration account (so the audit trail names the system, not a person).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ESCALATED_EVENT = "ticket.escalated"


def _default_events() -> list[str]:
    return [ESCALATED_EVENT]


class DepartmentWebhook(models.Model):
    department = models.ForeignKey("tickets.Department", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500, help_text=_("https-adress i förvaltningens ärendesystem"))
    # Shared with the receiver, who verifies X-CC-Signature with it. Shown once in the admin.
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    events = models.JSONField(default=_default_events, blank=True, help_text=_("Händelser som skickas, t.ex. ['ticket.escalated']"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["department__name", "id"]

    def __str__(self) -> str:
        return f"{self.department_id}: {self.url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar")
        DELIVERED = "delivered", _("Levererad")
        FAILED = "failed", _("Misslyckades")

    # The idempotency key the receiver sees in X-CC-Delivery: a retry carries the same one.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(DepartmentWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time of the next attempt; while an attempt runs it is pushed ahead as a lease, so a
    # second worker (a Celery redelivery, the sweeper) leaves the row alone.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhookdelivery_due")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.webhook_id} ({self.status})"


class DepartmentApiKey(models.Model):
    department = models.ForeignKey("tickets.Department", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text=_("Vilket system nyckeln tillhör"))
    # The key is "dk_<prefix>_<secret>"; only the SHA-256 of the whole key is stored.
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    # The department's integration account: answers are written as this user.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["department__name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
