"""Service commitments (serviceåtaganden): what the city promises, and per ticket where it stands."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CommitmentPolicy(models.Model):
    """A promise for the tickets it matches; the most specific active policy applies.

    Blank matching fields mean "any". Contact-centre clocks count business hours of the office
    calendar; the department clock (once escalated) counts calendar days and moves a deadline
    that falls on a closed day to the next weekday (lag 1930:173)."""

    name = models.CharField(max_length=200)
    public_text = models.CharField(max_length=300, blank=True, help_text=_("Som det står på den publika sidan"))
    channel = models.CharField(max_length=10, blank=True)
    department = models.ForeignKey("tickets.Department", null=True, blank=True, on_delete=models.CASCADE)
    category = models.CharField(max_length=100, blank=True)
    priority = models.CharField(max_length=10, blank=True)
    first_response_hours = models.FloatField(null=True, blank=True, help_text=_("Arbetstimmar till första svar"))
    resolution_hours = models.FloatField(null=True, blank=True, help_text=_("Arbetstimmar till löst"))
    department_days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Kalenderdagar för avdelningens handläggning efter eskalering")
    )
    # A milestone within the department clock, e.g. PBL's completeness check within 3 weeks of a
    # 10-week building-permit decision: met when the department first answers or asks for more.
    department_check_days = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Kalenderdagar till avdelningens första besked (t.ex. fullständighetskontroll)")
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TicketCommitment(models.Model):
    """Where one ticket stands against its promise: when to warn (80%) and when it is due, per
    clock, and whether the warning and the breach were announced (each at most once)."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="commitment")
    policy = models.ForeignKey(CommitmentPolicy, null=True, blank=True, on_delete=models.SET_NULL)
    first_response_warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    department_warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    first_response_warned = models.BooleanField(default=False)
    first_response_breached = models.BooleanField(default=False)
    resolution_warned = models.BooleanField(default=False)
    resolution_breached = models.BooleanField(default=False)
    department_warned = models.BooleanField(default=False)
    department_breached = models.BooleanField(default=False)
    department_check_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    department_check_warn_at = models.DateTimeField(null=True, blank=True, db_index=True)
    department_check_done_at = models.DateTimeField(null=True, blank=True)
    department_check_warned = models.BooleanField(default=False)
    department_check_breached = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"commitment of ticket {self.ticket_id}"
