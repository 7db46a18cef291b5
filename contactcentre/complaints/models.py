"""Complaint handling (klagomålshantering): a complaint is a ticket with its own workflow.

The ticket carries the conversation; the ``Complaint`` carries what systematic complaint
handling needs on top: who owns it, its own answer commitment, the root cause and the
improvement it led to. Every change goes through ``services.py``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RootCause(models.Model):
    """A configurable root-cause category (defaults from a data migration, editable in the admin)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registrerat")
        INVESTIGATED = "investigated", _("Utrett")
        ANSWERED = "answered", _("Besvarat")
        CLOSED = "closed", _("Avslutat")

    class Source(models.TextChoices):
        ROUTING = "routing", _("Upptäckt vid inkomst")
        AGENT = "agent", _("Markerat av handläggare")

    S = Status
    # Strictly forward: a complaint is investigated before it is answered, and answered before
    # it is closed, so the report's stages mean the same for every complaint.
    ALLOWED_TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        S.REGISTERED: frozenset({S.INVESTIGATED}),
        S.INVESTIGATED: frozenset({S.ANSWERED}),
        S.ANSWERED: frozenset({S.CLOSED}),
        S.CLOSED: frozenset(),
    }

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.PROTECT, related_name="complaint")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REGISTERED)
    source = models.CharField(max_length=10, choices=Source.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_complaints")
    # The department the complaint concerns (snapshot of the ticket's at registration; editable).
    department = models.ForeignKey("tickets.Department", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="complaints")
    findings = models.TextField(blank=True, help_text=_("Vad utredningen visade"))
    answer_summary = models.TextField(blank=True, help_text=_("Vad vi svarade den som klagade"))
    root_cause = models.ForeignKey(RootCause, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    improvement_action = models.TextField(blank=True, help_text=_("Förbättringsåtgärd"))
    registered_at = models.DateTimeField(default=timezone.now, db_index=True)
    answer_due_at = models.DateTimeField(null=True, blank=True)
    investigated_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-registered_at", "-id"]
        indexes = [models.Index(fields=["status", "-registered_at"], name="complaint_status_registered")]

    def __str__(self) -> str:
        return f"complaint {self.pk} ({self.status})"
