"""The ticket domain: contacts, departments, tickets, their messages and their history.

Models declare data, choices and allowed transitions; every change goes through
``services.py`` (never ``save()`` overrides or signals carrying business rules).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True, help_text=_("Direktnummer, som det visas"))
    # {"mon": [["08:00", "16:30"]], ..., "sun": []}; empty means "as the contact centre".
    opening_hours = models.JSONField(default=dict, blank=True)
    # E-mail auto-answers only above this confidence; null uses the router's default.
    email_auto_answer_threshold = models.FloatField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    class Kind(models.TextChoices):
        RESIDENT = "resident", _("Privatperson")
        BUSINESS = "business", _("Företag/organisation")

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.RESIDENT)
    name = models.CharField(max_length=200, blank=True)
    organisation_number = models.CharField(max_length=11, blank=True, db_index=True)
    preferred_language = models.CharField(max_length=5, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name or f"Kontakt {self.pk}"


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    # Stored lower-cased so lookups can use the unique index.
    address = models.EmailField(unique=True)

    def __str__(self) -> str:
        return self.address


class ContactPhone(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(max_length=20, unique=True, help_text="E.164")

    def __str__(self) -> str:
        return self.number


class ReferenceSequence(models.Model):
    """One counter per prefix and year; incremented under the row lock by the ticket service."""

    prefix = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="uniq_reference_sequence")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"


class Channel(models.TextChoices):
    WEB = "web", _("Webbformulär")
    EMAIL = "email", _("E-post")
    PHONE = "phone", _("Telefon")
    CHAT = "chat", _("Chatt")
    OPEN311 = "open311", _("Open311")
    INTERNAL = "internal", _("Intern")


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("Ny")
        OPEN = "open", _("Öppen")
        WAITING = "waiting", _("Väntar på invånaren")
        ESCALATED = "escalated", _("Eskalerad")
        RESOLVED = "resolved", _("Löst")
        CLOSED = "closed", _("Stängd")

    class Priority(models.TextChoices):
        LOW = "low", _("Låg")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("Hög")
        URGENT = "urgent", _("Brådskande")

    S = Status
    ALLOWED_TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        S.NEW: frozenset({S.OPEN, S.WAITING, S.ESCALATED, S.RESOLVED}),
        S.OPEN: frozenset({S.WAITING, S.ESCALATED, S.RESOLVED}),
        S.WAITING: frozenset({S.OPEN, S.ESCALATED, S.RESOLVED}),
        S.ESCALATED: frozenset({S.OPEN, S.WAITING, S.RESOLVED}),
        S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
        S.CLOSED: frozenset(),
    }
    ACTIVE_STATUSES: ClassVar[frozenset[str]] = frozenset({S.NEW, S.OPEN, S.WAITING, S.ESCALATED})

    reference = models.CharField(max_length=32, unique=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(max_length=300, blank=True)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    category = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=5, default="sv")
    is_complaint = models.BooleanField(default=False)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    tags = models.JSONField(default=list, blank=True)
    # The routing engine's decision and its explanation, as shown to the agent.
    routing = models.JSONField(default=dict, blank=True)
    first_contact_resolution = models.BooleanField(null=True, blank=True)
    # A message from another sender that quoted this ticket's reference waits here for an agent.
    held_for = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="held_messages")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    version = models.PositiveIntegerField(default=1)
    # Last registration number handed out to one of this ticket's messages (see Message.save).
    registration_seq = models.PositiveIntegerField(default=0, editable=False)

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Service-commitment due times (set on intake, kept right on every change).
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    department_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="ticket_status_id"),
            models.Index(fields=["department", "status", "-id"], name="ticket_dept_status_id"),
            models.Index(fields=["assignee", "status", "-id"], name="ticket_assignee_status_id"),
            models.Index(fields=["channel", "-id"], name="ticket_channel_id"),
            models.Index(fields=["contact", "-id"], name="ticket_contact_id"),
            # Growth (issue #8): the report's created_at range, the active queue, a caseworker's scope.
            # Full-text search (search_vector + GIN) is PostgreSQL-only SQL: migration 0003.
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["-id"], name="ticket_active_id",
                         condition=Q(status__in=["escalated", "new", "open", "waiting"])),
            # The console's tab counts read only this (an index-only scan of the active tickets:
            # about 3 ms for 15,000 of them at a million, instead of 13 ms through the heap).
            models.Index(fields=["status", "assignee"], name="ticket_active_counts",
                         condition=Q(status__in=["escalated", "new", "open", "waiting"])),
            models.Index(fields=["department", "-id"], name="ticket_dept_escalated_id",
                         condition=Q(escalated_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        # registration_seq is only ever advanced in the database (Message.save); a full save of a
        # stale instance (the admin, a script) must not turn it back and reissue a reference.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "registration_seq"
            ]
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is the unguessable id, never the sender's file name.
    return f"attachments/{instance.created_at:%Y/%m}/{instance.id}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inkommande")
        OUTBOUND = "outbound", _("Utgående")
        NOTE = "note", _("Intern anteckning")

    class Delivery(models.TextChoices):
        NONE = "", _("—")
        PENDING = "pending", _("Skickas")
        SENT = "sent", _("Skickat")
        FAILED = "failed", _("Misslyckades")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender = models.CharField(max_length=300, blank=True, help_text=_("Avsändare som den angavs"))
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text=_("Sanerad HTML"))
    # The channel's own id (e-mail Message-ID, call id + event, chat frame id): idempotency key.
    external_id = models.CharField(max_length=300, blank=True, default="")
    is_automatic = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.TextField(blank=True)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    # Public-records registration reference (``<ticket reference>/<n>``), given once when the item
    # is stored and never changed: a merge moves the message but keeps its reference.
    registration = models.CharField(max_length=48, unique=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""), name="uniq_message_channel_external_id"
            )
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id}/{self.pk} {self.direction}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Registration is an invariant of storing a message, so it lives here and no code path
        # can skip it. One atomic UPDATE ... RETURNING hands out the number: concurrent messages
        # to the same ticket serialise on the ticket row and get distinct numbers.
        if self._state.adding and not self.registration:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Ticket._meta.db_table} SET registration_seq = registration_seq + 1 "  # noqa: S608 - table name from the model
                    "WHERE id = %s RETURNING registration_seq, reference",
                    [self.ticket_id],
                )
                seq, reference = cursor.fetchone()
            self.registration = f"{reference}/{seq}"
        super().save(*args, **kwargs)


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """Append-only audit log: who changed what, when, from what to what."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=40)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_ticket_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.from_value}->{self.to_value}"

    def save(self, *args: object, **kwargs: object) -> None:
        # The log is evidence: rows are written once and never rewritten.
        if not self._state.adding:
            raise ValueError("TicketEvent rows are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise ValueError("TicketEvent rows are append-only")


class LiveEvent(models.Model):
    """The durable stream behind the websockets: written in the changing transaction,
    broadcast after commit. A client that missed frames resyncs from its last id."""

    type = models.CharField(max_length=40)
    ticket_reference = models.CharField(max_length=32, blank=True)
    department_code = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["department_code", "id"], name="liveevent_dept_id")]

    def __str__(self) -> str:
        return f"{self.pk} {self.type} {self.ticket_reference}"
