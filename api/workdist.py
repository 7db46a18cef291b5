"""The agent console's work distribution: agents online, my availability, offers, and the
supervisors' canned-reply catalogue (ticket merge/tags/canned replies: ``ticket_extras``)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.tickets.errors import NotFound
from contactcentre.workdist import selectors, services
from contactcentre.workdist.models import CannedReply, Offer

from . import ticket_extras
from .permissions import IsSupervisor


class AgentOnlineOutput(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    available = serializers.BooleanField()
    load = serializers.IntegerField()
    capacity = serializers.IntegerField()


class AgentsOnlineView(APIView):
    """Members of staff with the console open; ``available`` ones are offered work."""

    @extend_schema(responses=AgentOnlineOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(AgentOnlineOutput(selectors.agents_online_list(), many=True).data)


class AvailabilityInput(serializers.Serializer):
    available = serializers.BooleanField()


class AvailabilityView(APIView):
    @extend_schema(request=AvailabilityInput, responses=AgentOnlineOutput)
    def post(self, request: Request) -> Response:
        data = AvailabilityInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.agent_availability_set(actor=request.user, available=data.validated_data["available"])
        return Response(AgentOnlineOutput(selectors.agent_status_row(user=request.user)).data)


class OfferOutput(serializers.ModelSerializer):
    ticket = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    subject = serializers.CharField(source="ticket.subject", read_only=True)

    class Meta:
        model = Offer
        fields = ["id", "kind", "state", "ticket", "ticket_id", "chat_session_id", "subject", "created_at",
                  "expires_at", "decided_at"]
        read_only_fields = fields


class OfferListView(APIView):
    """My open offers (what the console shows after a reload)."""

    @extend_schema(responses=OfferOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(OfferOutput(selectors.offers_open_for(user=request.user), many=True).data)


def _offer_response(offer_id: int) -> Response:
    offer = Offer.objects.select_related("ticket").get(pk=offer_id)
    return Response(OfferOutput(offer).data)


class OfferAcceptView(APIView):
    """Take the offered work (claims the ticket / accepts the chat); 409 when no longer open."""

    @extend_schema(request=None, responses=OfferOutput)
    def post(self, request: Request, offer_id: int) -> Response:
        offer = services.offer_accept(offer_id=offer_id, actor=request.user)
        return _offer_response(offer.pk)


class OfferDeclineView(APIView):
    @extend_schema(request=None, responses=OfferOutput)
    def post(self, request: Request, offer_id: int) -> Response:
        offer = services.offer_decline(offer_id=offer_id, actor=request.user)
        return _offer_response(offer.pk)


# --- canned replies (supervisors and administrators) ---------------------------------------------

class CannedReplyOutput(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = CannedReply
        fields = ["id", "title", "body", "language", "department", "active", "created_at", "updated_at"]
        read_only_fields = fields


class CannedReplyInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20_000, help_text="may use {name} and {reference}")
    language = serializers.ChoiceField(choices=CannedReply.Language.choices, default=CannedReply.Language.SV)
    department = serializers.SlugField(required=False, allow_null=True, default=None,
                                       help_text="department code; null for all departments")
    active = serializers.BooleanField(required=False, default=True)


class CannedReplyPatchInput(CannedReplyInput):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(max_length=20_000, required=False)
    language = serializers.ChoiceField(choices=CannedReply.Language.choices, required=False)
    department = serializers.SlugField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)


class CannedReplyListView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(responses=CannedReplyOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(CannedReplyOutput(selectors.canned_reply_list(), many=True).data)

    @extend_schema(request=CannedReplyInput, responses={201: CannedReplyOutput})
    def post(self, request: Request) -> Response:
        data = CannedReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        v: dict[str, Any] = dict(data.validated_data)
        reply = services.canned_reply_create(actor=request.user, data=services.CannedReplyData(
            title=v["title"], body=v["body"], language=v["language"], department_code=v["department"], active=v["active"],
        ))
        return Response(CannedReplyOutput(reply).data, status=status.HTTP_201_CREATED)


class CannedReplyDetailView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(responses=CannedReplyOutput)
    def get(self, request: Request, reply_id: int) -> Response:
        reply = selectors.canned_reply_list().filter(pk=reply_id).first()
        if reply is None:
            raise NotFound(f"Canned reply {reply_id} does not exist.")
        return Response(CannedReplyOutput(reply).data)

    @extend_schema(request=CannedReplyPatchInput, responses=CannedReplyOutput)
    def patch(self, request: Request, reply_id: int) -> Response:
        data = CannedReplyPatchInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        reply = services.canned_reply_update(actor=request.user, reply_id=reply_id, changes=dict(data.validated_data))
        return Response(CannedReplyOutput(selectors.canned_reply_list().get(pk=reply.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, reply_id: int) -> Response:
        services.canned_reply_delete(actor=request.user, reply_id=reply_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("agents/online/", AgentsOnlineView.as_view(), name="agents-online"),
    path("me/availability/", AvailabilityView.as_view(), name="me-availability"),
    path("offers/", OfferListView.as_view(), name="offer-list"),
    path("offers/<int:offer_id>/accept/", OfferAcceptView.as_view(), name="offer-accept"),
    path("offers/<int:offer_id>/decline/", OfferDeclineView.as_view(), name="offer-decline"),
    path("canned-replies/", CannedReplyListView.as_view(), name="canned-reply-list"),
    path("canned-replies/<int:reply_id>/", CannedReplyDetailView.as_view(), name="canned-reply-detail"),
    path("tickets/<str:ref>/merge/", ticket_extras.MergeView.as_view(), name="ticket-merge"),
    path("tickets/<str:ref>/tags/", ticket_extras.TagsView.as_view(), name="ticket-tags"),
    path("tickets/<str:ref>/canned-replies/", ticket_extras.TicketCannedRepliesView.as_view(),
         name="ticket-canned-replies"),
]
