"""Work distribution for the agent console: offers of waiting work to available agents, each
agent's availability, and the canned replies agents insert into their answers.

Models declare data and constraints; every change goes through ``services.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Offer(models.Model):
    """One piece of waiting work (a chat, a callback, a new ticket) offered to one agent."""

    class Kind(models.TextChoices):
        CHAT = "chat", _("Chatt")
        CALLBACK = "callback", _("Återuppringning")
        TICKET = "ticket", _("Ärende")

    class State(models.TextChoices):
        OFFERED = "offered", _("Erbjuden")
        ACCEPTED = "accepted", _("Accepterad")
        DECLINED = "declined", _("Avböjd")
        EXPIRED = "expired", _("Utgången")
        WITHDRAWN = "withdrawn", _("Återkallad")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="offers")
    # For chats: the session whose "accept" the offer stands for.
    chat_session = models.ForeignKey(
        "chat.ChatSession", null=True, blank=True, on_delete=models.CASCADE, related_name="offers"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OFFERED)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Exactly-once: the database refuses a second open offer for the same work, however
            # many dispatchers race (partial unique index on PostgreSQL and SQLite alike).
            models.UniqueConstraint(fields=["ticket"], condition=Q(state="offered"), name="uniq_open_offer_per_ticket"),
        ]
        indexes = [
            models.Index(fields=["state", "expires_at"], name="offer_state_expires"),
            models.Index(fields=["agent", "state"], name="offer_agent_state"),
            models.Index(fields=["ticket", "state"], name="offer_ticket_state"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk} {self.kind} {self.ticket_id} -> {self.agent_id} ({self.state})"


class AgentStatus(models.Model):
    """Whether a member of staff takes offered work. Connected-ness lives in the presence cache;
    this row is the agent's own choice (durable across reconnects) and the round-robin clock."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workdist_status")
    # Off until the agent says "ready", as on a telephone ACD: opening the console is not consent.
    available = models.BooleanField(default=False)
    # Round-robin: the next offer goes to the eligible agent offered work longest ago.
    last_offered_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "agent statuses"

    def __str__(self) -> str:
        return f"{self.user_id}: {'available' if self.available else 'away'}"


class CannedReply(models.Model):
    """A prepared answer. ``{name}`` and ``{reference}`` are filled in for the ticket at hand."""

    class Language(models.TextChoices):
        SV = "sv", "Svenska"
        EN = "en", "English"
        FI = "fi", "Suomi"

    title = models.CharField(max_length=200)
    body = models.TextField()
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.SV)
    # Null: for every department (general replies).
    department = models.ForeignKey(
        "tickets.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="canned_replies"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "canned replies"
        indexes = [models.Index(fields=["language", "active"], name="cannedreply_language_active")]

    def __str__(self) -> str:
        return self.title
