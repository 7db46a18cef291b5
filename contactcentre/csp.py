"""Content Security Policy exceptions for third-party pages we do not write.

Our own pages allow no inline script and no inline style (``style-src 'self'``). The Django admin
and the API documentation (Swagger UI, Redoc) set inline styles themselves, so only their paths
get ``'unsafe-inline'`` for styles; script rules stay strict everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class ThirdPartyInlineStyleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(settings.CSP_INLINE_STYLE_PATH_PREFIXES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.prefixes):
            # Read by django-csp's middleware, which runs after this one on the way out.
            response._csp_update = {"style-src": ["'unsafe-inline'"]}  # type: ignore[attr-defined]
        return response
