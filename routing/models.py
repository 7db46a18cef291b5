from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RoutingRule(models.Model):
    """An explicit admin rule; it takes precedence over the engine's own judgement."""

    class Priority(models.TextChoices):
        LOW = "low", _("Låg")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("Hög")
        URGENT = "urgent", _("Akut")

    name = models.CharField(max_length=200)
    sender_domain = models.CharField(max_length=200, blank=True, help_text=_("t.ex. polisen.se"))
    phrase = models.CharField(max_length=200, blank=True, help_text=_("Fras i texten, skiftlägesokänslig"))
    department = models.ForeignKey(
        "tickets.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="routing_rules"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text=_("Lägre tal prövas först"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(sender_domain="") & models.Q(phrase="")),
                name="routing_rule_has_condition",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RoutingCorrection(models.Model):
    """A learned example: what an agent did with an enquiry, fed back to the engine."""

    class Source(models.TextChoices):
        REROUTE = "reroute", _("Omdirigerad av handläggare")
        REPLY_ARTICLE = "reply_article", _("Artikel använd i svar")
        HISTORY = "history", _("Historik")

    text = models.TextField()
    channel = models.CharField(max_length=10, blank=True)
    department = models.ForeignKey(
        "tickets.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    article = models.ForeignKey(
        "knowledge.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source}: {self.text[:40]}"
