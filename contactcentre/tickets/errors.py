"""Domain errors. ``api.exceptions`` maps them to HTTP statuses (400/404/409)."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. ``code`` is stable for clients; the message is for people."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class TransitionNotAllowed(ConflictError):
    code = "transition_not_allowed"

    def __init__(self, current: str, target: str, *, action: str = "") -> None:
        what = f"'{action}'" if action else f"to '{target}'"
        super().__init__(f"Ticket status is '{current}': the change {what} is not allowed from that status.")
        self.current = current
        self.target = target


class AlreadyClaimed(ConflictError):
    code = "already_claimed"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class NotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"
