"""The access log's one entry point, called from the API's read paths.

One call per request writes every row of that request in a single INSERT (``bulk_create``), so
logging a contact with fifty tickets costs one query, not fifty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import AccessLog


def access_log(
    *,
    user: Any,
    action: str,
    tickets: Iterable[Any] = (),
    contact_id: int | None = None,
    object_id: str = "",
    path: str = "",
) -> None:
    rows = [
        AccessLog(user_id=user.pk, username=user.get_username(), action=action, ticket_id=t.pk,
                  ticket_reference=t.reference, contact_id=t.contact_id or contact_id,
                  object_id=object_id, path=path[:300])
        for t in tickets
    ]
    if not rows:
        rows = [AccessLog(user_id=user.pk, username=user.get_username(), action=action,
                          contact_id=contact_id, object_id=object_id, path=path[:300])]
    AccessLog.objects.bulk_create(rows)


def access_log_request(request: Any, *, action: str, tickets: Iterable[Any] = (),
                       contact_id: int | None = None, object_id: str = "") -> None:
    """The thin form for views: who and where come from the request."""
    access_log(user=request.user, action=action, tickets=tickets, contact_id=contact_id,
               object_id=object_id, path=request.path)
