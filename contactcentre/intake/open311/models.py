"""Open311 GeoReport v2: the city's service catalogue and the requests filed through it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class ServiceDefinition(models.Model):
    """One Open311 service, mapped onto a department and a ticket category."""

    service_code = models.SlugField(max_length=60, unique=True)
    service_name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # Null while the department is not (yet) imported: requests then stay with the contact centre.
    department = models.ForeignKey("tickets.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="open311_services")
    category = models.CharField(max_length=100, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    group = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "service_name"]

    def __str__(self) -> str:
        return f"{self.service_code}: {self.service_name}"


class ServiceRequest(models.Model):
    """What Open311 knows about a ticket beyond the ticket itself: the service and where it is."""

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="open311_request")
    service = models.ForeignKey(ServiceDefinition, on_delete=models.PROTECT, related_name="requests")
    lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    long = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # What the resident wrote, as the public feed shows it (the ticket's message adds the place).
    description = models.TextField(blank=True)
    address_string = models.CharField(max_length=300, blank=True)
    address_id = models.CharField(max_length=100, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.service_id} -> {self.ticket_id}"
