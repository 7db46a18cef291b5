"""Websocket authentication and origin policy.

* Browsers authenticate with the session cookie and must send an allowed ``Origin``
  (a cross-site page cannot ride on the agent's cookie).
* Other clients send ``Authorization: Token <key>`` in the handshake (never a token in the URL).
  Browsers cannot set that header on a websocket, so a token handshake is not a CSRF vector;
  an ``Origin`` it carries must still be allowed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user", "user__department").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def origin_allowed(origin: str, *, path: str = "") -> bool:
    parsed = urlparse(origin)
    if not parsed.hostname:
        return False
    extra = list(settings.WEBSOCKET_ALLOWED_ORIGINS)
    if path.startswith("/ws/chat/"):
        # The resident widget is embedded on the city's own web pages.
        extra += list(getattr(settings, "CHAT_WIDGET_ORIGINS", []))
    if origin.rstrip("/") in {o.rstrip("/") for o in extra}:
        return True
    host = parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
    allowed = settings.ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
    return validate_host(parsed.hostname, allowed) or validate_host(host, allowed)


class TokenAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        auth = _header(scope, b"authorization")
        origin = _header(scope, b"origin")
        scope = dict(scope)
        scope["auth_method"] = "session"
        if auth:
            kind, _, key = auth.partition(" ")
            user = await _user_for_token(key.strip()) if kind.lower() == "token" and key.strip() else None
            scope["user"] = user or AnonymousUser()
            scope["auth_method"] = "token"
            if origin and not origin_allowed(origin, path=scope.get("path", "")):
                return await _deny(scope, receive, send)
        else:
            if not origin or not origin_allowed(origin, path=scope.get("path", "")):
                # A cookie-authenticated socket from an unknown page could be a hijack.
                return await _deny(scope, receive, send)
        return await self.inner(scope, receive, send)


async def _deny(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    # Refuses the handshake (HTTP 403), as channels' OriginValidator does.
    return await WebsocketDenier()(scope, receive, send)


def WebsocketAuthStack(inner: Any) -> Any:  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    # Session/cookie auth first, then the token header may set scope["user"] instead.
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
