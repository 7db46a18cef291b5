"""``POST /api/v1/intake/email/``: a raw RFC 822 message from a mail gateway or an MTA pipe.

Authenticated by the shared secret in ``X-Email-Intake-Secret`` (settings.EMAIL_INTAKE_SECRET).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.intake.mail.services import mail_receive

AUTH_HEADER = "X-Email-Intake-Secret"


class _MailGateway(AnonymousUser):
    """The authenticated caller: a machine, not a member of staff."""

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True


class EmailIntakeSecretAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, None]:
        expected = settings.EMAIL_INTAKE_SECRET
        given = request.headers.get(AUTH_HEADER, "")
        # Constant time, so the secret cannot be guessed byte by byte; an unset secret opens nothing.
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationFailed("Missing or wrong intake secret.")
        return _MailGateway(), None

    def authenticate_header(self, request: Request) -> str:
        return AUTH_HEADER  # makes DRF answer 401 rather than 403


class EmailIntakeSecretScheme(OpenApiAuthenticationExtension):
    """Documents the shared secret in the OpenAPI schema."""

    target_class = "api.email_intake.EmailIntakeSecretAuthentication"
    name = "emailIntakeSecret"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": AUTH_HEADER}


class RawMailParser(BaseParser):
    media_type = "message/rfc822"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> bytes:
        return stream.read() if stream is not None else b""


class RawTextMailParser(RawMailParser):
    media_type = "text/plain"


EmailIntakeOutput = inline_serializer(
    "EmailIntakeResult",
    {
        "kind": serializers.CharField(help_text="stored, duplicate, bounce, bounce_unmatched, ignored or quarantined (kept byte for byte for an operator)"),
        "reference": serializers.CharField(allow_blank=True),
        "created": serializers.BooleanField(),
        "held": serializers.BooleanField(),
        "receipt": serializers.BooleanField(),
    },
)


class EmailIntakeView(APIView):
    """Store one raw e-mail. 201 when stored, 200 for a duplicate Message-ID or a bounce."""

    authentication_classes = [EmailIntakeSecretAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [RawMailParser, RawTextMailParser]
    throttle_classes: list = []  # a trusted gateway, authenticated by the secret

    @extend_schema(
        request={"message/rfc822": {"type": "string", "format": "binary"},
                 "text/plain": {"type": "string", "format": "binary"}},
        responses={201: EmailIntakeOutput, 200: EmailIntakeOutput},
    )
    def post(self, request: Request) -> Response:
        raw = request.data
        if not isinstance(raw, bytes) or not raw.strip():
            raise serializers.ValidationError({"body": ["Send the raw message as the request body."]})
        if len(raw) > settings.EMAIL_INTAKE_MAX_BYTES:
            return Response({"detail": "The message is too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        received = mail_receive(raw=raw)  # DomainError (empty message) becomes 400 in the handler
        intake = received.intake
        body = {
            "kind": received.kind,
            "reference": received.reference,
            "created": bool(intake and intake.created),
            "held": bool(intake and intake.held),
            "receipt": received.receipt,
        }
        return Response(body, status=status.HTTP_201_CREATED if received.kind == "stored" else status.HTTP_200_OK)


urlpatterns = [
    path("intake/email/", EmailIntakeView.as_view(), name="intake-email"),
]
