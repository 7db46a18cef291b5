from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contactcentre.tickets import selectors

from .serializers import DepartmentOutput


class DepartmentListView(APIView):
    """The public directory: departments with their direct e-mail and phone (no personal data)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=DepartmentOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(DepartmentOutput(selectors.department_list(), many=True).data)
