"""Celery: background and scheduled work. On the embedded default tasks run in-process
(``CELERY_TASK_ALWAYS_EAGER``); in production a worker and beat consume Redis."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcentre.settings")

app = Celery("contactcentre")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
