"""Public records and data protection: who read what, how long we keep what, what we disposed of.

The logs here are evidence. Rows are written once (``save`` refuses updates, ``delete`` refuses
single deletes); they point at tickets and contacts by id and reference, never by foreign key,
so that disposing of a ticket leaves the record that it existed and who read it.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} rows are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def,override]
        raise ValueError(f"{type(self).__name__} rows are append-only")


class AccessLog(AppendOnly):
    """One row per object with personal data a member of staff read (GDPR art. 32 traceability)."""

    class Action(models.TextChoices):
        TICKET_DETAIL = "ticket.detail", _("Ärende visat")
        TICKET_MESSAGES = "ticket.messages", _("Meddelanden visade")
        CONTACT_DETAIL = "contact.detail", _("Kontakt visad")
        ATTACHMENT = "attachment.download", _("Bilaga hämtad")
        EXPORT = "contact.export", _("Registerutdrag")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=30, choices=Action.choices)
    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    ticket_reference = models.CharField(max_length=32, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="accesslog_user_id")]

    def __str__(self) -> str:
        return f"{self.username} {self.action} {self.ticket_reference or self.contact_id}"


class RetentionClass(models.Model):
    """A line of the city's retention plan: which records, which disposal decision, how long."""

    record_type = models.CharField(
        max_length=20, unique=True,
        help_text=_("Ärendets kanal (email, chat, phone, web, open311, internal) eller '*' för övriga"),
    )
    decision_reference = models.CharField(max_length=200, help_text=_("Gallringsbeslut, t.ex. 'KS 2024/123 § 4'"))
    period_days = models.PositiveIntegerField(help_text=_("Räknas från att ärendet avslutades"))
    archive_before_disposal = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["record_type"]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.period_days} d ({self.decision_reference})"


class LegalHold(models.Model):
    """Stops disposal and erasure of a ticket, or of everything about a contact, until released."""

    ticket_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    contact_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    reason = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(ticket_id__isnull=False) | models.Q(contact_id__isnull=False),
                name="legalhold_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"hold ticket={self.ticket_id} contact={self.contact_id}"


class DisposalLog(AppendOnly):
    """What the disposal job removed (or kept and why), under which decision, archived where."""

    class Outcome(models.TextChoices):
        DISPOSED = "disposed", _("Gallrat")
        HELD = "held", _("Stoppat av bevarandebeslut")
        FAILED = "failed", _("Misslyckades")

    ticket_id = models.BigIntegerField(null=True, blank=True)  # null: a record that is no ticket (quarantined mail)
    ticket_reference = models.CharField(max_length=32, blank=True)
    record_type = models.CharField(max_length=20)
    decision_reference = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    messages = models.PositiveIntegerField(default=0)
    attachments = models.PositiveIntegerField(default=0)
    archived_to = models.CharField(max_length=500, blank=True)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.ticket_reference} {self.outcome}"


class ErasureRequest(AppendOnly):
    """A resident's request to be forgotten: what was pseudonymised, what stays and why."""

    contact_id = models.BigIntegerField(db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    pseudonymised = models.JSONField(default=list)
    kept = models.JSONField(default=list, help_text=_("[{ticket, reason}] that a retention rule or hold keeps"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"erasure contact={self.contact_id}"
