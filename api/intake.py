"""Public intake endpoints (the web form now; e-mail, phone and chat adapters add theirs)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from contactcentre.intake.mail.services import receipt_send_on_commit
from contactcentre.intake.web import web_form_receive
from contactcentre.tickets.identifiers import normalise_organisation_number, normalise_phone
from contactcentre.tickets.links import ticket_status_url

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


class WebIntakeInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    organisation_number = serializers.CharField(max_length=13, required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    message = serializers.CharField(max_length=20_000)
    language = serializers.ChoiceField(choices=["sv", "en", "fi"], required=False, allow_blank=True, default="")

    def validate_phone(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return normalise_phone(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate_organisation_number(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return normalise_organisation_number(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {"email": ["Ange e-postadress eller telefonnummer så att vi kan svara dig."]}
            )
        return attrs


WebIntakeOutput = inline_serializer(
    "WebIntakeReceipt",
    {
        "reference": serializers.CharField(),
        "status": serializers.CharField(),
        "status_url": serializers.URLField(),
        "duplicate": serializers.BooleanField(),
        "answered": serializers.BooleanField(),
    },
)


class WebIntakeView(APIView):
    """A resident's web form. Answers 201 with the ticket's reference and a signed status link.

    Send an ``Idempotency-Key`` header to make retries safe: the same key returns the same
    ticket (200) instead of a second one.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []  # anonymous, so no CSRF coupling to a staff session
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "intake"

    @extend_schema(
        request=WebIntakeInput,
        responses={201: WebIntakeOutput, 200: WebIntakeOutput},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request) -> Response:
        ser = WebIntakeInput(data=request.data)
        ser.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and not _IDEMPOTENCY_KEY.match(key):
            raise serializers.ValidationError({"Idempotency-Key": ["8-128 characters: letters, digits, _ . : -"]})
        result = web_form_receive(data=ser.validated_data, idempotency_key=key)
        ticket = result.ticket
        answered = bool(result.outcome and result.outcome.action == "answer" and not result.held)
        if result.created:
            # The receipt (reference, commitment, signed status link) goes out by e-mail when the
            # resident gave an address; it decides itself when not to send (held, answered,
            # rate-limited). It goes to the address typed in this form.
            receipt_send_on_commit(ticket, address=ser.validated_data["email"], fresh=True,
                                   answered=None if answered else False)
        body = {
            "reference": ticket.reference,
            "status": ticket.status,
            "status_url": ticket_status_url(ticket),
            "duplicate": result.duplicate,
            "answered": answered,
        }
        return Response(body, status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED)
