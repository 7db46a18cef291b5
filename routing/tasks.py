from __future__ import annotations

from celery import shared_task

from .services import routing_retrain


@shared_task(name="routing.tasks.retrain")
def retrain() -> str:
    """Rebuild the routing index from the database (scheduled, or after corrections)."""
    return routing_retrain()
