"""Records and data protection for supervisors and administrators: the access log, legal holds,
the disposal log, and residents' export (right of access) and erasure requests."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.records import services
from contactcentre.records.access import access_log_request
from contactcentre.records.models import AccessLog, DisposalLog, ErasureRequest, LegalHold
from contactcentre.tickets.errors import NotFound
from contactcentre.tickets.models import Contact, Ticket

from .permissions import IsSupervisor


class _Pages(CursorPagination):
    page_size = 100
    ordering = "-id"


class AccessLogOutput(serializers.ModelSerializer):
    class Meta:
        model = AccessLog
        fields = ["id", "username", "action", "ticket_reference", "ticket_id", "contact_id", "object_id", "path",
                  "created_at"]


class AccessLogView(ListAPIView):
    permission_classes = [IsSupervisor]
    serializer_class = AccessLogOutput
    pagination_class = _Pages

    @extend_schema(parameters=[OpenApiParameter("ticket", str, description="reference or id"),
                               OpenApiParameter("user", str, description="username"),
                               OpenApiParameter("contact", int)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = AccessLog.objects.all()
        params = self.request.query_params
        if ticket := params.get("ticket", "").strip()[:32]:
            qs = qs.filter(ticket_id=int(ticket)) if ticket.isdigit() else qs.filter(ticket_reference=ticket.upper())
        if user := params.get("user", "").strip()[:150]:
            qs = qs.filter(username=user)
        if (contact := params.get("contact", "").strip()).isdigit():
            qs = qs.filter(contact_id=int(contact))
        return qs


class DisposalLogOutput(serializers.ModelSerializer):
    class Meta:
        model = DisposalLog
        fields = ["id", "ticket_reference", "record_type", "decision_reference", "outcome", "messages", "attachments",
                  "archived_to", "detail", "created_at"]


class DisposalLogView(ListAPIView):
    permission_classes = [IsSupervisor]
    serializer_class = DisposalLogOutput
    pagination_class = _Pages
    queryset = DisposalLog.objects.all()


class LegalHoldInput(serializers.Serializer):
    ticket = serializers.CharField(required=False, max_length=32, help_text="reference or id")
    contact = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(max_length=5000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("ticket") and not attrs.get("contact"):
            raise serializers.ValidationError("Give a ticket or a contact.")
        return attrs


class LegalHoldOutput(serializers.ModelSerializer):
    class Meta:
        model = LegalHold
        fields = ["id", "ticket_id", "contact_id", "reason", "created_at", "released_at"]


class LegalHoldListView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(responses=LegalHoldOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(LegalHoldOutput(LegalHold.objects.filter(released_at__isnull=True)[:1000], many=True).data)

    @extend_schema(request=LegalHoldInput, responses={201: LegalHoldOutput})
    def post(self, request: Request) -> Response:
        ser = LegalHoldInput(data=request.data)
        ser.is_valid(raise_exception=True)
        data = ser.validated_data
        ticket_id = contact_id = None
        if key := data.get("ticket"):
            ticket = (Ticket.objects.filter(pk=int(key)) if key.isdigit() else Ticket.objects.filter(reference=key.upper())).first()
            if ticket is None:
                raise NotFound(f"Ticket {key} does not exist.")
            ticket_id = ticket.pk
        if data.get("contact"):
            if not Contact.objects.filter(pk=data["contact"]).exists():
                raise NotFound(f"Contact {data['contact']} does not exist.")
            contact_id = data["contact"]
        hold = services.legal_hold_place(ticket_id=ticket_id, contact_id=contact_id, reason=data["reason"], actor=request.user)
        return Response(LegalHoldOutput(hold).data, status=status.HTTP_201_CREATED)


class LegalHoldReleaseView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(request=None, responses=LegalHoldOutput)
    def post(self, request: Request, hold_id: int) -> Response:
        hold = services.legal_hold_release(hold_id=hold_id, actor=request.user)
        return Response(LegalHoldOutput(hold).data)


class ContactExportView(APIView):
    """Right of access (GDPR art. 15): everything we hold about one contact, as JSON."""

    permission_classes = [IsSupervisor]

    @extend_schema(responses={(200, "application/json"): dict})
    def get(self, request: Request, contact_id: int) -> Response:
        if not Contact.objects.filter(pk=contact_id).exists():
            raise NotFound(f"Contact {contact_id} does not exist.")
        data = services.contact_export(contact_id=contact_id)
        access_log_request(request, action=AccessLog.Action.EXPORT, contact_id=contact_id)
        return Response(data, headers={"Cache-Control": "private, no-store"})


class ErasureInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ErasureOutput(serializers.ModelSerializer):
    class Meta:
        model = ErasureRequest
        fields = ["id", "contact_id", "reason", "pseudonymised", "kept", "created_at"]


class ContactErasureView(APIView):
    """Erasure (GDPR art. 17) within the archives act: see ``services.contact_erase``."""

    permission_classes = [IsSupervisor]

    @extend_schema(request=ErasureInput, responses={201: ErasureOutput})
    def post(self, request: Request, contact_id: int) -> Response:
        ser = ErasureInput(data=request.data)
        ser.is_valid(raise_exception=True)
        if not Contact.objects.filter(pk=contact_id).exists():
            raise NotFound(f"Contact {contact_id} does not exist.")
        result = services.contact_erase(contact_id=contact_id, actor=request.user, reason=ser.validated_data["reason"])
        return Response(ErasureOutput(result).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("records/access-log/", AccessLogView.as_view(), name="records-access-log"),
    path("records/disposal-log/", DisposalLogView.as_view(), name="records-disposal-log"),
    path("records/legal-holds/", LegalHoldListView.as_view(), name="records-legal-holds"),
    path("records/legal-holds/<int:hold_id>/release/", LegalHoldReleaseView.as_view(), name="records-legal-hold-release"),
    path("records/contacts/<int:contact_id>/export/", ContactExportView.as_view(), name="records-contact-export"),
    path("records/contacts/<int:contact_id>/erasure/", ContactErasureView.as_view(), name="records-contact-erasure"),
]
