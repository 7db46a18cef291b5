from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.tickets import selectors


class EventsView(APIView):
    """Catch-up for live clients: the events after ``since`` that the caller may see."""

    @extend_schema(
        parameters=[OpenApiParameter("since", int, required=True)],
        responses=inline_serializer("EventPage", {"events": serializers.ListField(child=serializers.DictField()),
                                                  "last_id": serializers.IntegerField()}),
    )
    def get(self, request: Request) -> Response:
        try:
            since = max(0, int(request.query_params.get("since", "0")))
        except ValueError:
            raise serializers.ValidationError({"since": ["An integer event id."]}) from None
        items = selectors.live_events_since(user=request.user, since=since)
        frames = [{"id": e.pk, "type": e.type, "ts": e.created_at.isoformat(), **e.payload} for e in items]
        last_id = frames[-1]["id"] if frames else max(since, 0)
        return Response({"events": frames, "last_id": last_id})
