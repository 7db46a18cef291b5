from __future__ import annotations

from celery import shared_task

from .services import routing_retrain_if_changed


@shared_task(name="routing.tasks.retrain")
def retrain() -> str:
    """Rebuild the routing index when corrections or rules changed (scheduled periodically)."""
    return routing_retrain_if_changed()
