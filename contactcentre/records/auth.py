"""The login-lockout backend: django-axes, counting failures atomically in the database."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Axes, except for calls without an HTTP request (management commands, the test client's
    ``login()``): those are not attempts from the network, and axes would refuse them outright.
    Every network path (login form, admin, token endpoint) passes its request."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
