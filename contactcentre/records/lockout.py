"""What a locked-out login attempt sees: one answer that names no account and no remaining time."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, JsonResponse


def lockout_response(request: Any, original_response: Any = None, credentials: Any = None, *args: Any,
                     **kwargs: Any) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Too many failed login attempts. Try again later.", "code": "locked_out"},
                            status=429)
    return HttpResponse("För många misslyckade inloggningsförsök. Försök igen senare.",
                        status=429, content_type="text/plain; charset=utf-8")
