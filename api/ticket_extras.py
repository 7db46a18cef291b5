"""Ticket actions of the agent console: merge a duplicate, tags, canned replies for a ticket."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.tickets import selectors, services
from contactcentre.workdist import selectors as workdist_selectors
from contactcentre.workdist.models import CannedReply
from contactcentre.workdist.services import canned_reply_render

from .serializers import TicketDetailOutput
from .tickets import _ticket_response


class MergeInput(serializers.Serializer):
    into = serializers.CharField(max_length=32, help_text="reference (or id) of the ticket to merge into")
    allow_different_contacts = serializers.BooleanField(
        required=False, default=False,
        help_text="merge even though the tickets belong to different contacts (the target's replies reach its contact)",
    )


class MergeView(APIView):
    """Merge this ticket (the duplicate) into another. Messages move to the target; the
    duplicate ends closed with ``merged_into`` set."""

    @extend_schema(request=MergeInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        source = selectors.ticket_get(user=request.user, reference_or_id=ref)
        data = MergeInput(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.ticket_get(user=request.user, reference_or_id=data.validated_data["into"])
        services.ticket_merge(ticket_id=source.pk, into_id=target.pk, actor=request.user,
                              allow_different_contacts=data.validated_data["allow_different_contacts"])
        return _ticket_response(request, target.pk)


class TagsInput(serializers.Serializer):
    add = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list, max_length=50)
    remove = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list, max_length=50)


class TagsView(APIView):
    """Tags are normalised to lower-case slugs (at most 20 per ticket, 40 characters each)."""

    @extend_schema(request=TagsInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
        data = TagsInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.ticket_tags_update(ticket_id=ticket.pk, add=data.validated_data["add"],
                                    remove=data.validated_data["remove"], actor=request.user)
        return _ticket_response(request, ticket.pk)


class TicketCannedReplyOutput(serializers.ModelSerializer):
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    body = serializers.SerializerMethodField(help_text="with {name} and {reference} filled in for this ticket")

    class Meta:
        model = CannedReply
        fields = ["id", "title", "language", "department", "body"]
        read_only_fields = fields

    def get_body(self, obj: CannedReply) -> str:
        return canned_reply_render(obj, ticket=self.context["ticket"])


class TicketCannedRepliesView(APIView):
    """Canned replies in the ticket's language, for its department and general ones, filled in."""

    @extend_schema(responses=TicketCannedReplyOutput(many=True))
    def get(self, request: Request, ref: str) -> Response:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
        replies = workdist_selectors.canned_replies_for_ticket(ticket=ticket)
        return Response(TicketCannedReplyOutput(replies, many=True, context={"ticket": ticket}).data)
