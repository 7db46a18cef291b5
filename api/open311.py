"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /api/open311/v2/.

``services``, ``services/<code>``, ``requests`` (GET list, POST create) and ``requests/<id>``, each
as ``.json`` or ``.xml``, plus ``discovery.json``. Reads are public, as the standard intends; only
Open311-filed requests are listed, and never the resident's name, e-mail or phone. Errors are the
spec's ``[{"code": 400, "description": "..."}]`` (``<errors><error>`` in XML).
"""

from __future__ import annotations

import hmac
import re
import xml.etree.ElementTree as ET  # noqa: S405 - we only build XML, never parse it
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404
from django.urls import re_path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from contactcentre.intake.open311 import selectors
from contactcentre.intake.open311.models import ServiceDefinition, ServiceRequest
from contactcentre.intake.open311.services import NewServiceRequest, service_request_create
from contactcentre.tickets.errors import DomainError

# --- rendering -------------------------------------------------------------------------------

# A list inside an element holds children named in the singular, as the spec's XML does.
_XML_ITEM = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def _xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _xml_fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        name = _XML_ITEM.get(element.tag, "item")
        for child in value:
            _xml_fill(ET.SubElement(element, name), child)
    else:
        element.text = _xml_text(value)


class Open311XMLRenderer(BaseRenderer):
    """The spec's element names: ``<services><service>``, ``<service_requests><request>``,
    ``<service_definition>``, ``<errors><error>`` (chosen by the view and the status code)."""

    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict[str, Any] | None = None) -> bytes:
        context = renderer_context or {}
        response = context.get("response")
        view = context.get("view")
        if response is not None and response.status_code >= 400:
            root_name, item_name = "errors", "error"
        else:
            root_name, item_name = getattr(view, "xml_root", "response"), getattr(view, "xml_item", "item")
        root = ET.Element(root_name)
        if isinstance(data, list):
            for item in data:
                _xml_fill(ET.SubElement(root, item_name), item)
        else:
            _xml_fill(root, data)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class Open311JSONRenderer(JSONRenderer):
    format = "json"


# --- errors ----------------------------------------------------------------------------------

def _describe(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {_describe(v)}" if k not in ("non_field_errors", "detail") else _describe(v)
                         for k, v in detail.items())
    if isinstance(detail, list):
        return " ".join(_describe(v) for v in detail)
    return str(detail)


def open311_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        code, description = exc.status_code, exc.message
    elif isinstance(exc, Http404):
        code, description = 404, str(exc) or "Not found."
    elif isinstance(exc, exceptions.APIException):
        code, description = exc.status_code, _describe(exc.detail)
    else:
        return None
    response = Response([{"code": code, "description": description}], status=code)
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response


# --- serializers -----------------------------------------------------------------------------

class ServiceOutput(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField()
    metadata = serializers.BooleanField()
    type = serializers.CharField()
    keywords = serializers.CharField()
    group = serializers.CharField()


class ServiceRequestOutput(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])
    status_notes = serializers.CharField(allow_null=True)
    service_name = serializers.CharField()
    service_code = serializers.CharField()
    description = serializers.CharField()
    agency_responsible = serializers.CharField(allow_null=True)
    service_notice = serializers.CharField(allow_null=True)
    requested_datetime = serializers.CharField()
    updated_datetime = serializers.CharField()
    expected_datetime = serializers.CharField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    address_id = serializers.CharField(allow_null=True)
    zipcode = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.CharField(allow_null=True)


class ServiceRequestCreatedOutput(serializers.Serializer):
    service_request_id = serializers.CharField()
    service_notice = serializers.CharField()
    account_id = serializers.CharField(allow_null=True)


class ServiceRequestInput(serializers.Serializer):
    jurisdiction_id = serializers.CharField(required=False, allow_blank=True)
    api_key = serializers.CharField(required=False, allow_blank=True)
    service_code = serializers.SlugField(max_length=60)
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False,
                                   allow_null=True, default=None, coerce_to_string=False)
    long = serializers.DecimalField(max_digits=10, decimal_places=6, min_value=-180, max_value=180, required=False,
                                    allow_null=True, default=None, coerce_to_string=False)
    address_string = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    address_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    device_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    account_id = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    media_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> Any:
        # Decimal places beyond what we store are GPS noise, not an error: round before validating.
        if hasattr(data, "copy"):
            data = data.copy()
            for key in ("lat", "long"):
                value = data.get(key)
                if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
                    data[key] = f"{float(value):.6f}"
                elif value == "":
                    data[key] = None
        return super().to_internal_value(data)


class RequestListFilter(serializers.Serializer):
    jurisdiction_id = serializers.CharField(required=False, allow_blank=True)
    service_request_id = serializers.CharField(required=False, allow_blank=True, default="")
    service_code = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.CharField(required=False, allow_blank=True, default="")
    start_date = serializers.DateTimeField(required=False, allow_null=True, default=None)
    end_date = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_status(self, value: str) -> str:
        if any(s not in ("open", "closed") for s in _csv(value)):
            raise serializers.ValidationError("status is 'open', 'closed' or both, comma-separated.")
        return value


def _csv(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def service_output(service: ServiceDefinition) -> dict[str, Any]:
    return {
        "service_code": service.service_code,
        "service_name": service.service_name,
        "description": service.description,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(service.keywords or []),
        "group": service.group,
    }


def request_output(item: ServiceRequest) -> dict[str, Any]:
    ticket = item.ticket
    state = selectors.open311_status(ticket.status)
    department = ticket.department
    return {
        "service_request_id": ticket.reference,
        "status": state,
        # Only a fixed note: agents' replies go to the resident, not to a public feed.
        "status_notes": "Ärendet är avslutat." if state == "closed" else None,
        "service_name": item.service.service_name,
        "service_code": item.service.service_code,
        "description": item.description or item.service.service_name,
        "agency_responsible": department.name if department else None,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(ticket.resolution_due_at),
        "address": item.address_string or None,
        "address_id": item.address_id or None,
        "zipcode": None,
        "lat": float(item.lat) if item.lat is not None else None,
        "long": float(item.long) if item.long is not None else None,
        "media_url": item.media_url or None,
    }


# --- views -----------------------------------------------------------------------------------

FORMAT = OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["json", "xml"])
JURISDICTION = OpenApiParameter("jurisdiction_id", str, required=False,
                                description="Optional: this endpoint serves one jurisdiction.")
ERRORS = {
    400: OpenApiResponse(description='[{"code": 400, "description": "..."}]'),
    404: OpenApiResponse(description='[{"code": 404, "description": "..."}]'),
}


class _Open311View(APIView):
    authentication_classes: list = []  # public by design; POST is keyed by api_key, not a session
    permission_classes = [AllowAny]
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    throttle_classes = [AnonRateThrottle]
    xml_root = "response"
    xml_item = "item"

    def get_exception_handler(self):  # type: ignore[no-untyped-def]
        return open311_exception_handler

    def get_format_suffix(self, **kwargs: Any) -> str | None:
        # Not DRF's "format" kwarg: schema generators skip paths ending in ".{format}".
        return kwargs.get("fmt")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        jurisdiction = request.query_params.get("jurisdiction_id")
        if request.method == "POST" and hasattr(request.data, "get"):
            jurisdiction = request.data.get("jurisdiction_id") or jurisdiction
        if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION_ID:
            raise exceptions.NotFound(f"jurisdiction_id '{jurisdiction}' is not served here.")


class ServiceListView(_Open311View):
    xml_root, xml_item = "services", "service"

    @extend_schema(operation_id="open311_services", parameters=[FORMAT, JURISDICTION],
                   responses={200: ServiceOutput(many=True), **ERRORS})
    def get(self, request: Request, fmt: str) -> Response:
        return Response([service_output(s) for s in selectors.service_list()])


class ServiceDefinitionView(_Open311View):
    xml_root = "service_definition"

    @extend_schema(operation_id="open311_service_definition", parameters=[FORMAT, JURISDICTION],
                   responses={200: OpenApiResponse(description='{"service_code": "...", "attributes": []}'), **ERRORS})
    def get(self, request: Request, service_code: str, fmt: str) -> Response:
        service = selectors.service_get(service_code=service_code)
        if service is None:
            raise exceptions.NotFound(f"service_code '{service_code}' not found.")
        # Our services take no extra attributes (metadata=false), so the definition is empty.
        return Response({"service_code": service.service_code, "attributes": []})


class RequestsView(_Open311View):
    xml_root, xml_item = "service_requests", "request"
    parser_classes = [FormParser, MultiPartParser]

    def get_throttles(self) -> list[Any]:
        if self.request.method == "POST":
            throttle = ScopedRateThrottle()
            return [throttle]
        return super().get_throttles()

    throttle_scope = "intake"

    @extend_schema(
        operation_id="open311_requests_list",
        parameters=[FORMAT, JURISDICTION,
                    OpenApiParameter("service_request_id", str, description="Comma-separated ids; other filters then ignored."),
                    OpenApiParameter("service_code", str, description="Comma-separated service codes."),
                    OpenApiParameter("status", str, description="open, closed or both, comma-separated."),
                    OpenApiParameter("start_date", datetime), OpenApiParameter("end_date", datetime)],
        responses={200: ServiceRequestOutput(many=True), **ERRORS},
    )
    def get(self, request: Request, fmt: str) -> Response:
        filt = RequestListFilter(data=request.query_params)
        filt.is_valid(raise_exception=True)
        f = filt.validated_data
        items = selectors.service_request_list(
            references=_csv(f["service_request_id"]),
            service_codes=_csv(f["service_code"]),
            statuses=_csv(f["status"]),
            start=f["start_date"],
            end=f["end_date"],
        )
        return Response([request_output(item) for item in items])

    @extend_schema(
        operation_id="open311_requests_create",
        parameters=[FORMAT, OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        request={"application/x-www-form-urlencoded": ServiceRequestInput, "multipart/form-data": ServiceRequestInput},
        responses={201: ServiceRequestCreatedOutput(many=True), 403: OpenApiResponse(description="Invalid api_key"),
                   **ERRORS},
    )
    def post(self, request: Request, fmt: str) -> Response:
        ser = ServiceRequestInput(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        _check_api_key(data.get("api_key", ""))
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not re.fullmatch(r"[A-Za-z0-9_.:-]{8,128}", key):
            raise serializers.ValidationError({"Idempotency-Key": ["8-128 characters: letters, digits, _ . : -"]})
        result = service_request_create(data=NewServiceRequest(
            service_code=data["service_code"], description=data["description"], lat=data["lat"], long=data["long"],
            address_string=data["address_string"], address_id=data["address_id"], email=data["email"],
            first_name=data["first_name"], last_name=data["last_name"], phone=data["phone"],
            media_url=data["media_url"], device_id=data["device_id"], account_id=data["account_id"],
            idempotency_key=key,
        ))
        item = result.request
        department = item.ticket.department
        notice = (f"Ärendet handläggs av {department.name}." if department
                  else "Ärendet handläggs av stadens kontaktcenter.")
        body = [{"service_request_id": item.ticket.reference, "service_notice": notice,
                 "account_id": item.account_id or None}]
        return Response(body, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)


def _check_api_key(offered: str) -> None:
    keys = [k for k in settings.OPEN311_API_KEYS if k]
    if not keys:
        return
    if not any(hmac.compare_digest(offered.encode(), k.encode()) for k in keys):
        raise exceptions.PermissionDenied("Invalid api_key.")


class RequestDetailView(_Open311View):
    xml_root, xml_item = "service_requests", "request"

    @extend_schema(operation_id="open311_request_get", parameters=[FORMAT, JURISDICTION],
                   responses={200: ServiceRequestOutput(many=True), **ERRORS})
    def get(self, request: Request, service_request_id: str, fmt: str) -> Response:
        item = selectors.service_request_get(reference=service_request_id)
        if item is None:
            raise exceptions.NotFound(f"service_request_id '{service_request_id}' not found.")
        return Response([request_output(i) for i in [item]])


class DiscoveryView(_Open311View):
    xml_root = "discovery"

    @extend_schema(operation_id="open311_discovery", parameters=[FORMAT],
                   responses={200: OpenApiResponse(description="GeoReport v2 service discovery")})
    def get(self, request: Request, fmt: str) -> Response:
        base = request.build_absolute_uri("/api/open311/v2/")
        return Response({
            "changeset": "2026-01-01T00:00:00Z",
            "contact": settings.DEFAULT_FROM_EMAIL,
            "key_service": "Kontakta stadens kontaktcenter för en api_key." if settings.OPEN311_API_KEYS else "",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                           "changeset": "2026-01-01T00:00:00Z", "type": "production",
                           "formats": ["application/json", "text/xml"]}],
        })


_FMT = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^discovery" + _FMT, DiscoveryView.as_view(), name="open311-discovery"),
    re_path(r"^services" + _FMT, ServiceListView.as_view(), name="open311-services"),
    re_path(r"^services/(?P<service_code>[-a-zA-Z0-9_]+)" + _FMT, ServiceDefinitionView.as_view(),
            name="open311-service-definition"),
    re_path(r"^requests" + _FMT, RequestsView.as_view(), name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[-A-Za-z0-9]+)" + _FMT, RequestDetailView.as_view(),
            name="open311-request"),
]
