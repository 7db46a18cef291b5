"""Surveys, read-only for staff: the active questions, and where a ticket's survey stands."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.experience.models import Question, Survey, SurveyInvitation
from contactcentre.tickets import selectors as ticket_selectors
from contactcentre.tickets.errors import NotFound


class QuestionOutput(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["code", "order", "kind", "text", "scale_min", "scale_max", "scale_labels", "required"]


class SurveyOutput(serializers.ModelSerializer):
    questions = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = ["code", "name", "questions"]

    @extend_schema(exclude=True)
    def get_questions(self, obj: Survey) -> list[dict]:  # type: ignore[type-arg]
        return QuestionOutput([q for q in obj.questions.all() if q.is_active], many=True).data  # type: ignore[return-value]


class InvitationOutput(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.reference")
    answered = serializers.SerializerMethodField()

    class Meta:
        model = SurveyInvitation
        fields = ["ticket", "status", "via", "skip_reason", "language", "created_at", "send_after", "sent_at",
                  "responded_at", "answered"]

    def get_answered(self, obj: SurveyInvitation) -> bool:
        return obj.responded_at is not None


class SurveyListView(APIView):
    @extend_schema(responses=SurveyOutput(many=True))
    def get(self, request: Request) -> Response:
        surveys = Survey.objects.filter(is_active=True).prefetch_related("questions")
        return Response(SurveyOutput(surveys, many=True).data)


class TicketSurveyView(APIView):
    """Whether the ticket's survey was sent (never its answers: they are anonymous to agents)."""

    @extend_schema(responses=InvitationOutput)
    def get(self, request: Request, ref: str) -> Response:
        ticket = ticket_selectors.ticket_get(user=request.user, reference_or_id=ref)
        invitation = SurveyInvitation.objects.select_related("ticket").filter(ticket=ticket).first()
        if invitation is None:
            raise NotFound("No survey for this ticket.")
        return Response(InvitationOutput(invitation).data)


urlpatterns = [
    path("surveys/", SurveyListView.as_view(), name="survey-list"),
    path("tickets/<str:ref>/survey/", TicketSurveyView.as_view(), name="ticket-survey"),
]
