"""POST /api/v1/routing/preview/: what the router would decide, without creating anything."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsStaffAgent
from routing.services import decision_as_dict, routing_decide


class RoutingPreviewInput(serializers.Serializer):
    text = serializers.CharField(max_length=20_000)
    channel = serializers.ChoiceField(choices=["web", "chat", "email", "phone", "open311"], default="web")
    language = serializers.ChoiceField(choices=["sv", "en", "fi"], required=False, allow_null=True)
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    sender_email = serializers.EmailField(required=False, allow_blank=True, default="")


class RoutingPreviewView(APIView):
    permission_classes = [IsStaffAgent]

    @extend_schema(request=RoutingPreviewInput, responses=dict)
    def post(self, request: Request) -> Response:
        data = RoutingPreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = routing_decide(
            text=data.validated_data["text"],
            channel=data.validated_data["channel"],
            language=data.validated_data.get("language"),
            subject=data.validated_data.get("subject", ""),
            sender_email=data.validated_data.get("sender_email", ""),
        )
        return Response(decision_as_dict(decision))


urlpatterns = [path("routing/preview/", RoutingPreviewView.as_view(), name="routing-preview")]
