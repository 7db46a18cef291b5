"""Jobs of the customer-experience app: the survey sweep (beat) and the survey mail (retried)."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from contactcentre.intake.mail.tasks import RETRYABLE

from .services import survey_email_failed, survey_email_send, surveys_sweep


class _SurveyMailTask(Task):
    def on_failure(self, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        # Retries spent: the invitation shows "failed" and is not counted as sent.
        survey_email_failed(invitation_id=args[0] if args else kwargs["object_id"], error=f"{type(exc).__name__}: {exc}")


@shared_task(name="experience.surveys_sweep")
def sweep() -> dict[str, int]:
    return surveys_sweep()


@shared_task(base=_SurveyMailTask, name="experience.survey_email_send", autoretry_for=RETRYABLE, retry_backoff=30,
             retry_backoff_max=3600, retry_jitter=True, max_retries=settings.EMAIL_SEND_MAX_RETRIES)
def survey_email_send_task(object_id: int) -> str:
    return survey_email_send(invitation_id=object_id)
