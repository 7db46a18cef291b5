"""A resident's chat session: the proof that a browser owns one conversation (ticket).

The browser holds an opaque random token; only its SHA-256 is stored, so a database leak does
not let anyone resume a resident's conversation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ChatSession(models.Model):
    class State(models.TextChoices):
        BOT = "bot", _("Automatiskt svar")
        WAITING = "waiting_for_agent", _("Väntar på handläggare")
        WITH_AGENT = "with_agent", _("Med handläggare")
        ENDED = "ended", _("Avslutad")
        OFFLINE = "offline", _("Svar via e-post")

    token_hash = models.CharField(max_length=64, unique=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.BOT)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=5, default="sv")
    resident_name = models.CharField(max_length=200, blank=True)
    resident_email = models.EmailField(blank=True)
    # The resident asked for the answer by e-mail (offline, or tired of waiting).
    reply_by_email = models.BooleanField(default=False)
    # Why the chat went offline: "closed" (outside opening hours) or "no_agent".
    offline_reason = models.CharField(max_length=20, blank=True)
    # The automatic answer still waiting for the resident's "did it help?".
    feedback_message_id = models.BigIntegerField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_seen_at = models.DateTimeField(default=timezone.now)
    waiting_since = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "waiting_since"], name="chatsession_state_waiting"),
            models.Index(fields=["ticket"], name="chatsession_ticket"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in (self.State.BOT, self.State.WAITING, self.State.WITH_AGENT)
