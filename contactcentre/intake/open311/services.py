"""Filing an Open311 service request: one ticket through the intake service, department pinned."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from contactcentre.tickets.errors import DomainError
from contactcentre.tickets.models import Channel, Ticket

from .models import ServiceDefinition, ServiceRequest


@dataclass(frozen=True, slots=True)
class NewServiceRequest:
    service_code: str
    description: str = ""
    lat: Decimal | None = None
    long: Decimal | None = None
    address_string: str = ""
    address_id: str = ""
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class ServiceRequestResult:
    request: ServiceRequest
    duplicate: bool


def service_request_create(*, data: NewServiceRequest) -> ServiceRequestResult:
    service = ServiceDefinition.objects.select_related("department").filter(
        service_code=data.service_code, is_active=True
    ).first()
    if service is None:
        raise DomainError(f"Unknown service_code '{data.service_code}'.", code="invalid_service_code")
    if not ((data.lat is not None and data.long is not None) or data.address_string.strip() or data.address_id.strip()):
        raise DomainError("A location is required: lat and long, address_string or address_id.", code="location_required")

    place = location_text(data)
    body = data.description.strip() or service.service_name
    if place:
        body += f"\n\nPlats: {place}"
    subject = service.service_name + (f" – {data.address_string.strip()}" if data.address_string.strip() else "")
    department = service.department if service.department_id and service.department.is_active else None  # type: ignore[union-attr]
    inbound = InboundMessage(
        channel=Channel.OPEN311,
        subject=subject[:300],
        body_text=body,
        sender_name=" ".join(p for p in (data.first_name.strip(), data.last_name.strip()) if p),
        sender_email=data.email,
        sender_phone=data.phone,
        external_id=f"open311:{data.idempotency_key}" if data.idempotency_key else "",
        meta={"service_code": service.service_code, "media_url": data.media_url} if data.media_url
        else {"service_code": service.service_code},
        department_code=department.code if department else "",
        # The resident chose the service, so the department is known; and a fault report must never
        # be "answered" by a knowledge article and closed.
        route=False,
    )
    with transaction.atomic():
        result = intake_receive(inbound)
        if result.duplicate:
            return ServiceRequestResult(request=ServiceRequest.objects.get(ticket=result.ticket), duplicate=True)
        if service.category:
            # Part of creating the ticket (same transaction, before any frame leaves): no new version.
            Ticket.objects.filter(pk=result.ticket.pk).update(category=service.category[:100])
        request = ServiceRequest.objects.create(
            ticket=result.ticket,
            service=service,
            description=data.description.strip(),
            lat=data.lat,
            long=data.long,
            address_string=data.address_string.strip()[:300],
            address_id=data.address_id.strip()[:100],
            media_url=data.media_url[:500],
            device_id=data.device_id[:100],
            account_id=data.account_id[:100],
        )
    return ServiceRequestResult(request=request, duplicate=False)


def location_text(data: NewServiceRequest) -> str:
    parts = [data.address_string.strip()]
    if data.lat is not None and data.long is not None:
        parts.append(f"({data.lat}, {data.long})")
    return " ".join(p for p in parts if p)
