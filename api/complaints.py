"""Complaint handling: mark a ticket as a complaint, list and read complaints, and move them
through registered -> investigated -> answered -> closed (one thin view per operation)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.complaints import selectors, services
from contactcentre.complaints.models import Complaint, RootCause
from contactcentre.tickets import selectors as ticket_selectors
from contactcentre.tickets.errors import NotFound


class RootCauseOutput(serializers.ModelSerializer):
    class Meta:
        model = RootCause
        fields = ["code", "name", "description"]


class ComplaintOutput(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.reference")
    subject = serializers.CharField(source="ticket.subject")
    department = serializers.CharField(source="department.code", allow_null=True, default=None)
    owner = serializers.CharField(source="owner.username", allow_null=True, default=None)
    root_cause = serializers.CharField(source="root_cause.code", allow_null=True, default=None)
    answered_on_time = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = ["id", "ticket", "subject", "status", "source", "department", "owner", "findings", "answer_summary",
                  "root_cause", "improvement_action", "registered_at", "answer_due_at", "investigated_at",
                  "answered_at", "closed_at", "answered_on_time", "version"]

    def get_answered_on_time(self, obj: Complaint) -> bool | None:
        if obj.answered_at is None or obj.answer_due_at is None:
            return None
        return obj.answered_at <= obj.answer_due_at


class ComplaintFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=Complaint.Status.choices, required=False)
    department = serializers.SlugField(required=False)


class ComplaintListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("status", str, enum=Complaint.Status.values),
                               OpenApiParameter("department", str)],
                   responses=ComplaintOutput(many=True))
    def get(self, request: Request) -> Response:
        filt = ComplaintFilter(data=request.query_params)
        filt.is_valid(raise_exception=True)
        complaints = selectors.complaint_list(**filt.validated_data)[:500]
        return Response(ComplaintOutput(complaints, many=True).data)


class RootCauseListView(APIView):
    @extend_schema(responses=RootCauseOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(RootCauseOutput(RootCause.objects.filter(is_active=True), many=True).data)


def _complaint_response(complaint_id: int, code: int = status.HTTP_200_OK) -> Response:
    complaint = selectors.complaint_get(complaint_id=complaint_id)
    if complaint is None:
        raise NotFound(f"Complaint {complaint_id} does not exist.")
    return Response(ComplaintOutput(complaint).data, status=code)


class ComplaintDetailView(APIView):
    @extend_schema(responses=ComplaintOutput)
    def get(self, request: Request, complaint_id: int) -> Response:
        return _complaint_response(complaint_id)


class TicketComplaintView(APIView):
    """An agent marks the ticket as a complaint (201 when registered now, 200 if it already was)."""

    @extend_schema(request=None, responses={200: ComplaintOutput, 201: ComplaintOutput})
    def post(self, request: Request, ref: str) -> Response:
        ticket = ticket_selectors.ticket_get(user=request.user, reference_or_id=ref)
        complaint, created = services.complaint_register(ticket_id=ticket.pk, actor=request.user)
        return _complaint_response(complaint.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ComplaintInvestigateInput(serializers.Serializer):
    findings = serializers.CharField(max_length=20_000)


class ComplaintAnswerInput(serializers.Serializer):
    answer_summary = serializers.CharField(max_length=20_000)


class ComplaintCloseInput(serializers.Serializer):
    root_cause = serializers.SlugField(help_text="a code from /complaints/root-causes/")
    improvement_action = serializers.CharField(max_length=20_000)


class ComplaintAssignInput(serializers.Serializer):
    owner = serializers.IntegerField(allow_null=True, help_text="user id, or null to release")


class _ComplaintAction(APIView):
    input_serializer: type[serializers.Serializer]

    def post(self, request: Request, complaint_id: int) -> Response:
        ser = self.input_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        perform = self.perform  # type: ignore[attr-defined]  # each action view defines it
        perform(request, complaint_id, dict(ser.validated_data))
        return _complaint_response(complaint_id)


class InvestigateView(_ComplaintAction):
    input_serializer = ComplaintInvestigateInput

    @extend_schema(request=ComplaintInvestigateInput, responses=ComplaintOutput)
    def post(self, request: Request, complaint_id: int) -> Response:
        return super().post(request, complaint_id)

    def perform(self, request: Request, complaint_id: int, data: dict[str, Any]) -> None:
        services.complaint_investigate(complaint_id=complaint_id, actor=request.user, findings=data["findings"])


class AnswerView(_ComplaintAction):
    input_serializer = ComplaintAnswerInput

    @extend_schema(request=ComplaintAnswerInput, responses=ComplaintOutput)
    def post(self, request: Request, complaint_id: int) -> Response:
        return super().post(request, complaint_id)

    def perform(self, request: Request, complaint_id: int, data: dict[str, Any]) -> None:
        services.complaint_answer(complaint_id=complaint_id, actor=request.user, answer_summary=data["answer_summary"])


class CloseView(_ComplaintAction):
    input_serializer = ComplaintCloseInput

    @extend_schema(request=ComplaintCloseInput, responses=ComplaintOutput)
    def post(self, request: Request, complaint_id: int) -> Response:
        return super().post(request, complaint_id)

    def perform(self, request: Request, complaint_id: int, data: dict[str, Any]) -> None:
        services.complaint_close(complaint_id=complaint_id, actor=request.user, root_cause=data["root_cause"],
                                 improvement_action=data["improvement_action"])


class AssignView(_ComplaintAction):
    input_serializer = ComplaintAssignInput

    @extend_schema(request=ComplaintAssignInput, responses=ComplaintOutput)
    def post(self, request: Request, complaint_id: int) -> Response:
        return super().post(request, complaint_id)

    def perform(self, request: Request, complaint_id: int, data: dict[str, Any]) -> None:
        services.complaint_assign(complaint_id=complaint_id, actor=request.user, owner_id=data["owner"])


urlpatterns = [
    path("complaints/", ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/root-causes/", RootCauseListView.as_view(), name="complaint-root-causes"),
    path("complaints/<int:complaint_id>/", ComplaintDetailView.as_view(), name="complaint-detail"),
    path("complaints/<int:complaint_id>/investigate/", InvestigateView.as_view(), name="complaint-investigate"),
    path("complaints/<int:complaint_id>/answer/", AnswerView.as_view(), name="complaint-answer"),
    path("complaints/<int:complaint_id>/close/", CloseView.as_view(), name="complaint-close"),
    path("complaints/<int:complaint_id>/assign/", AssignView.as_view(), name="complaint-assign"),
    path("tickets/<str:ref>/complaint/", TicketComplaintView.as_view(), name="ticket-complaint"),
]
