"""Departments' case-management systems answer residents: ``POST /api/v1/department/tickets/<ref>/answer/``.

Authenticated with a per-department API key (``Authorization: Department-Key dk_…``, created
with ``manage.py department_api_key <code> <name>``). The key acts as the department's
integration account, so it reaches exactly the tickets escalated to that department (anything
else is 404) and the answer leaves through the ticket's own channel, like a caseworker's.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from contactcentre.departments.models import DepartmentApiKey
from contactcentre.departments.services import (
    department_api_key_authenticate,
    department_ticket_answer,
)

KEYWORD = "Department-Key"


class DepartmentKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, DepartmentApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace") != KEYWORD:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Department-Key header.")
        key = department_api_key_authenticate(parts[1].decode(errors="replace"))
        if key is None:
            raise AuthenticationFailed("Unknown or disabled department key.")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD  # 401, not 403, without a key


class DepartmentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.departments_api.DepartmentKeyAuthentication"
    name = "departmentKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Department-Key dk_…`, one per department system"}


class HasDepartmentKey(BasePermission):
    message = "This endpoint needs a department key."

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        return isinstance(request.auth, DepartmentApiKey)


class AnswerInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000, trim_whitespace=True,
                                 help_text="Plain text; sent to the resident through the ticket's channel.")
    status_after = serializers.ChoiceField(choices=["waiting", "resolved"], required=False, allow_null=True,
                                           help_text="'waiting': a question to the resident; 'resolved': the final answer.")
    answer_id = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                      help_text="Your id for this answer: sending it again returns the first answer.")


class AnswerOutput(serializers.Serializer):
    ticket = serializers.CharField()
    message_id = serializers.IntegerField()
    status = serializers.CharField()
    created = serializers.BooleanField()


class AnswerView(APIView):
    authentication_classes = [DepartmentKeyAuthentication]
    permission_classes = [HasDepartmentKey]
    throttle_classes = [UserRateThrottle]

    @extend_schema(request=AnswerInput, responses={201: AnswerOutput, 200: AnswerOutput}, tags=["departments"])
    def post(self, request: Request, ref: str) -> Response:
        data = AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        message, created = department_ticket_answer(
            key=request.auth, reference=ref, body=data.validated_data["body"],
            status_after=data.validated_data.get("status_after"),
            answer_id=data.validated_data.get("answer_id") or "",
        )
        message.ticket.refresh_from_db(fields=["status"])
        out = AnswerOutput({"ticket": message.ticket.reference, "message_id": message.pk,
                            "status": message.ticket.status, "created": created})
        return Response(out.data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


urlpatterns = [
    path("department/tickets/<str:ref>/answer/", AnswerView.as_view(), name="department-ticket-answer"),
]
