from __future__ import annotations

from celery import shared_task

from .services import records_dispose


@shared_task(name="records.dispose")
def dispose() -> dict[str, int]:
    report = records_dispose()
    return {"disposed": len(report.disposed), "held": len(report.held), "failed": len(report.failed)}
