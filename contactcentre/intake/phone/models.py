"""Calls from the telephony platform (CTI) and the events that drove them.

``CallSession`` is the database's truth about one call (the screen-pop is only a live frame);
``CallEvent`` is the idempotency record: one row per (call, event), so a replayed delivery is
recognised and refused, and the platform's payload is kept for the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallSession(models.Model):
    class State(models.TextChoices):
        RINGING = "ringing", _("Ringer")
        ANSWERED = "answered", _("Besvarat")
        ENDED = "ended", _("Avslutat")
        MISSED = "missed", _("Missat")
        VOICEMAIL = "voicemail", _("Röstmeddelande")

    class Provider(models.TextChoices):
        CTI = "cti", _("Växelplattform (CTI)")
        TWILIO = "twilio", _("Twilio")

    call_id = models.CharField(max_length=128, unique=True)
    provider = models.CharField(max_length=10, choices=Provider.choices, default=Provider.CTI)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RINGING)
    caller_raw = models.CharField(max_length=64, blank=True)
    caller_e164 = models.CharField(max_length=20, blank=True, db_index=True)
    called_number = models.CharField(max_length=64, blank=True)
    contact = models.ForeignKey("tickets.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    outcome = models.CharField(max_length=100, blank=True)
    resolved_during_call = models.BooleanField(null=True, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "-id"], name="callsession_state_id")]

    def __str__(self) -> str:
        return f"{self.call_id} ({self.state})"


class CallEvent(models.Model):
    call = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=20)
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "event"], name="uniq_call_event")]

    def __str__(self) -> str:
        return f"{self.call_id}:{self.event}"
