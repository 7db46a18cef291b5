"""The one call other services make: "work may have moved, distribute after commit".

Kept free of imports beyond Django so the ticket and intake services can import it at module
level without a cycle; the distribution itself is imported when the callback runs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction


def workdist_dispatch_on_commit() -> None:
    """Offer waiting work to available agents once the current transaction commits (at once
    outside a transaction). Never part of the caller's transaction, never raises into it."""
    if not getattr(settings, "WORKDIST_ENABLED", True):
        return

    def run() -> None:
        from .services import workdist_dispatch_requested

        workdist_dispatch_requested()

    transaction.on_commit(run)
