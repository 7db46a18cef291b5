from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .metrics import REQUEST_LATENCY


class RequestMetricsMiddleware:
    """Times every request under its URL route name (never the raw path: ids would explode
    the label set)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or "unnamed") if match else "unresolved"
        REQUEST_LATENCY.labels(route=route, method=request.method or "", status_class=f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response
