"""Tickets: list, read, and the agent actions (one thin view per operation)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.records.access import access_log_request
from contactcentre.tickets import selectors, services
from contactcentre.tickets.errors import NotFound
from contactcentre.tickets.models import Attachment, Channel, Ticket

from .pagination import TicketCursorPagination
from .serializers import MessageOutput, TicketDetailOutput, TicketOutput


class TicketFilter(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Ticket.Status.choices, required=False)
    department = serializers.SlugField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    assignee = serializers.CharField(required=False, allow_blank=True, help_text="username, 'me' or 'none'")
    complaint = serializers.BooleanField(required=False, allow_null=True, default=None)
    contact = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TicketListPagination(TicketCursorPagination):
    """Newest first; a full-text search (PostgreSQL) orders by relevance, then newest. The rank is
    an integer, so the cursor's position compares exactly; ties fall back to the cursor's offset."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        if "search_rank" in queryset.query.annotations:
            return ("-search_rank", "-id")
        return (self.ordering,) if isinstance(self.ordering, str) else tuple(self.ordering)


class TicketListView(ListAPIView):
    serializer_class = TicketOutput
    pagination_class = TicketListPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, many=True, enum=Ticket.Status.values),
            OpenApiParameter("department", str),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("assignee", str, description="username, 'me' or 'none'"),
            OpenApiParameter("complaint", bool),
            OpenApiParameter("contact", int),
            OpenApiParameter(
                "q", str,
                description="search: on PostgreSQL full text in subject and messages (Swedish stemming, every "
                "word must occur, longer words also as prefixes; the 200 newest matches, most relevant first) or the "
                "exact reference; "
                "on the embedded SQLite default a substring of reference, subject, contact name or messages",
            ),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        data = self.request.query_params
        raw: dict[str, Any] = {k: data.get(k) for k in data if k not in ("status", "cursor", "page_size")}
        if "status" in data:
            raw["status"] = [s for value in data.getlist("status") for s in value.split(",") if s]
        filt = TicketFilter(data=raw)
        filt.is_valid(raise_exception=True)
        filters = dict(filt.validated_data)
        if "status" in filters:
            filters["status"] = sorted(filters["status"])
        return selectors.ticket_list(user=self.request.user, filters=filters)


class TicketDetailView(APIView):
    @extend_schema(responses=TicketDetailOutput)
    def get(self, request: Request, ref: str) -> Response:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
        access_log_request(request, action="ticket.detail", tickets=[ticket])
        return Response(TicketDetailOutput(ticket).data)


class TicketMessagesView(APIView):
    @extend_schema(responses=MessageOutput(many=True))
    def get(self, request: Request, ref: str) -> Response:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
        access_log_request(request, action="ticket.messages", tickets=[ticket])
        return Response(MessageOutput(selectors.message_list(ticket=ticket), many=True).data)


def _ticket_response(request: Request, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
    ticket = selectors.ticket_get(user=request.user, reference_or_id=ticket_id)
    return Response(TicketDetailOutput(ticket).data, status=code)


class _ActionView(APIView):
    input_serializer: type[serializers.Serializer] | None = None

    def post(self, request: Request, ref: str) -> Response:
        ticket = selectors.ticket_get(user=request.user, reference_or_id=ref)
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            ser = self.input_serializer(data=request.data)
            ser.is_valid(raise_exception=True)
            data = dict(ser.validated_data)
        perform = self.perform  # type: ignore[attr-defined]  # each action view defines it
        return perform(request, ticket, data)


class ClaimView(_ActionView):
    @extend_schema(request=None, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        services.ticket_claim(ticket_id=ticket.pk, actor=request.user)
        return _ticket_response(request, ticket.pk)


class AssignInput(serializers.Serializer):
    assignee = serializers.CharField(allow_null=True, help_text="username, or null to release")


class AssignView(_ActionView):
    input_serializer = AssignInput

    @extend_schema(request=AssignInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        from django.contrib.auth import get_user_model

        assignee_id = None
        if data["assignee"]:
            user = get_user_model().objects.filter(username=data["assignee"]).only("pk").first()
            if user is None:
                raise serializers.ValidationError({"assignee": ["No such member of staff."]})
            assignee_id = user.pk
        services.ticket_assign(ticket_id=ticket.pk, assignee_id=assignee_id, actor=request.user)
        return _ticket_response(request, ticket.pk)


class ReplyInput(serializers.Serializer):
    body = serializers.CharField(max_length=50_000, trim_whitespace=True)
    status_after = serializers.ChoiceField(
        choices=["waiting", "resolved", "open"], required=False, allow_null=True, default=None
    )
    article = serializers.SlugField(
        required=False, allow_blank=True, default="",
        help_text="slug of the knowledge-base article the reply is based on (the router learns from it)",
    )

    def validate_article(self, value: str) -> str:
        from knowledge.models import Article

        if value and not Article.objects.filter(slug=value, status=Article.Status.PUBLISHED).exists():
            raise serializers.ValidationError("No published article with that slug.")
        return value


class ReplyView(_ActionView):
    input_serializer = ReplyInput

    @extend_schema(request=ReplyInput, responses={201: MessageOutput})
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        message = services.ticket_reply(
            ticket_id=ticket.pk, actor=request.user, body=data["body"], status_after=data["status_after"],
            meta={"article": data["article"]} if data["article"] else None,
        )
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)


class NoteInput(serializers.Serializer):
    body = serializers.CharField(max_length=50_000)


class NoteView(_ActionView):
    input_serializer = NoteInput

    @extend_schema(request=NoteInput, responses={201: MessageOutput})
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        message = services.ticket_note(ticket_id=ticket.pk, actor=request.user, body=data["body"])
        return Response(MessageOutput(message).data, status=status.HTTP_201_CREATED)


class EscalateInput(serializers.Serializer):
    department = serializers.SlugField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class EscalateView(_ActionView):
    input_serializer = EscalateInput

    @extend_schema(request=EscalateInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        escalated = services.ticket_escalate(ticket_id=ticket.pk, actor=request.user, department_code=data["department"], note=data["note"])
        # Not re-read through the caller's scope: a caseworker who hands a ticket on to another
        # department no longer sees it, and must not be told "not found" for a write that happened.
        return Response(TicketDetailOutput(escalated).data)


class ResolveInput(serializers.Serializer):
    first_contact = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class ResolveView(_ActionView):
    input_serializer = ResolveInput

    @extend_schema(request=ResolveInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        services.ticket_resolve(ticket_id=ticket.pk, actor=request.user, first_contact=data["first_contact"], note=data["note"])
        return _ticket_response(request, ticket.pk)


class ReopenInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)


class ReopenView(_ActionView):
    input_serializer = ReopenInput

    @extend_schema(request=ReopenInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        services.ticket_reopen(ticket_id=ticket.pk, actor=request.user, reason=data["reason"])
        return _ticket_response(request, ticket.pk)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["waiting", "open", "closed"])


class StatusView(_ActionView):
    input_serializer = StatusInput

    @extend_schema(request=StatusInput, responses=TicketDetailOutput)
    def post(self, request: Request, ref: str) -> Response:
        return super().post(request, ref)

    def perform(self, request: Request, ticket: Ticket, data: dict[str, Any]) -> Response:
        services.ticket_transition(ticket_id=ticket.pk, to=data["status"], actor=request.user)
        return _ticket_response(request, ticket.pk)


class AttachmentDownloadView(APIView):
    """Attachments leave only through here: scope-checked, forced download, no sniffing."""

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request: Request, attachment_id: str) -> FileResponse:
        attachment = Attachment.objects.select_related("message__ticket").filter(pk=attachment_id).first()
        if attachment is None or not selectors.ticket_scope(request.user).filter(pk=attachment.message.ticket_id).exists():
            raise NotFound("Attachment not found.")
        access_log_request(request, action="attachment.download", tickets=[attachment.message.ticket],
                           object_id=str(attachment.pk))
        response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename,
                                content_type="application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
