"""Resident web chats, agent side: list the chats, accept one, end one, see availability.

Replies go through ``POST /api/v1/tickets/<ref>/reply/`` like any ticket: the chat deliverer
pushes them to the resident's widget. The same actions exist as ``chat.*`` frames on
``/ws/agent/``.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.intake.chat import selectors, services
from contactcentre.intake.chat.availability import chat_availability
from contactcentre.intake.chat.models import ChatSession
from contactcentre.tickets.errors import NotFound


class ChatOutput(serializers.ModelSerializer):
    session_id = serializers.IntegerField(source="pk", read_only=True)
    ticket = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    subject = serializers.CharField(source="ticket.subject", read_only=True, default="")
    accepted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ChatSession
        fields = ["session_id", "state", "ticket", "ticket_id", "subject", "language", "accepted_by",
                  "reply_by_email", "offline_reason", "created_at", "waiting_since", "accepted_at", "ended_at"]
        read_only_fields = fields


class ChatFilter(serializers.Serializer):
    state = serializers.MultipleChoiceField(choices=ChatSession.State.choices, required=False)


class ChatListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("state", str, many=True, enum=ChatSession.State.values,
                                     description="default: waiting_for_agent")],
        responses=ChatOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        states = [s for value in request.query_params.getlist("state") for s in value.split(",") if s]
        filt = ChatFilter(data={"state": states} if states else {})
        filt.is_valid(raise_exception=True)
        chats = selectors.chat_list(states=sorted(filt.validated_data.get("state") or []) or None)[:200]
        return Response(ChatOutput(chats, many=True).data)


def _chat_response(session_id: int) -> Response:
    chat = selectors.chat_get(session_id=session_id)
    if chat is None:
        raise NotFound("No such chat.")
    return Response(ChatOutput(chat).data)


class ChatAcceptView(APIView):
    @extend_schema(request=None, responses={200: ChatOutput}, description="409 when another agent took it first.")
    def post(self, request: Request, session_id: int) -> Response:
        services.chat_accept(session_id=session_id, actor=request.user)
        return _chat_response(session_id)


class ChatEndView(APIView):
    @extend_schema(request=None, responses={200: ChatOutput})
    def post(self, request: Request, session_id: int) -> Response:
        services.chat_end(session_id=session_id, actor=request.user)
        return _chat_response(session_id)


class ChatAvailabilityView(APIView):
    @extend_schema(responses=inline_serializer("ChatAvailability", {
        "available": serializers.BooleanField(),
        "reason": serializers.ChoiceField(choices=["", "closed", "no_agent"]),
    }))
    def get(self, request: Request) -> Response:
        return Response(chat_availability().as_dict())


urlpatterns = [
    path("chats/", ChatListView.as_view(), name="chat-list"),
    path("chats/availability/", ChatAvailabilityView.as_view(), name="chat-availability"),
    path("chats/<int:session_id>/accept/", ChatAcceptView.as_view(), name="chat-accept"),
    path("chats/<int:session_id>/end/", ChatEndView.as_view(), name="chat-end"),
]
