"""Reports for supervisors: the indicators (JSON and CSV), the complaint report and insight.

Definitions of every number: docs/indicators.md.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.complaints.selectors import complaint_report
from contactcentre.experience import insight
from contactcentre.experience.indicators import GROUP_BY, Period, indicators, indicators_table

from .permissions import IsSupervisor

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading quote
    (OWASP CSV injection). Numbers stay numbers; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class IndicatorsCSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if isinstance(data, dict) and "total" in data and "groups" in data:
            header, rows = indicators_table(data)
        else:  # an error: still valid CSV
            header, rows = ["detail"], [[str((data or {}).get("detail", data)) if isinstance(data, dict) else str(data)]]
        writer.writerow([csv_cell(h) for h in header])
        writer.writerows([csv_cell(c) for c in row] for row in rows)
        # A BOM so that spreadsheet programs read the Swedish letters as UTF-8.
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class PeriodInput(serializers.Serializer):
    to = serializers.DateField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False)
        return fields


class IndicatorsInput(PeriodInput):
    group_by = serializers.ChoiceField(choices=GROUP_BY, required=False, default="none")


def _period(data: dict[str, Any]) -> Period:
    return Period.from_dates(data.get("from"), data.get("to"))


_PERIOD_PARAMS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="first local day (Europe/Stockholm), default 29 days before 'to'"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last local day, inclusive; default today"),
]


class IndicatorsView(APIView):
    permission_classes = [IsSupervisor]
    renderer_classes = [renderers.JSONRenderer, IndicatorsCSVRenderer]

    @extend_schema(
        parameters=[*_PERIOD_PARAMS, OpenApiParameter("group_by", str, enum=list(GROUP_BY)),
                    OpenApiParameter("format", str, enum=["json", "csv"])],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Indicators; text/csv with format=csv")},
    )
    def get(self, request: Request) -> Response:
        ser = IndicatorsInput(data=request.query_params)
        ser.is_valid(raise_exception=True)
        report = indicators(period=_period(ser.validated_data), group_by=ser.validated_data["group_by"])
        response = Response(report)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            name = f"indikatorer_{report['from']}_{report['to']}_{report['group_by']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ComplaintReportView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(parameters=_PERIOD_PARAMS, responses={200: OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request: Request) -> Response:
        ser = PeriodInput(data=request.query_params)
        ser.is_valid(raise_exception=True)
        period = _period(ser.validated_data)
        return Response(complaint_report(date_from=period.start, date_to=period.end))


class InsightView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(parameters=[*_PERIOD_PARAMS, OpenApiParameter("weeks", int, description="weeks of topic trends (2-26)")],
                   responses={200: OpenApiResponse(OpenApiTypes.OBJECT)})
    def get(self, request: Request) -> Response:
        ser = PeriodInput(data=request.query_params)
        ser.is_valid(raise_exception=True)
        period = _period(ser.validated_data)
        weeks = serializers.IntegerField(min_value=2, max_value=26).run_validation(request.query_params.get("weeks") or 8)
        return Response({
            "from": period.start.date().isoformat(),
            "to": period.end.date().isoformat(),
            "topic_trends": {by: insight.topic_trends(by=by, weeks=weeks) for by in insight.TREND_DIMENSIONS},
            "knowledge_gaps": insight.knowledge_gaps(period=period),
            "feedback_themes": insight.feedback_themes(period=period),
        })


urlpatterns = [
    path("reports/indicators/", IndicatorsView.as_view(), name="report-indicators"),
    path("reports/complaints/", ComplaintReportView.as_view(), name="report-complaints"),
    path("reports/insight/", InsightView.as_view(), name="report-insight"),
]
