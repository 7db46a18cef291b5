from celery import shared_task

from .services import commitments_check


@shared_task(name="commitments.check")
def check() -> dict[str, int]:
    """Raise the 80% warnings and the breaches that came due (every minute)."""
    return commitments_check()
