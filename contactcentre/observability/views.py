from __future__ import annotations

import ipaddress
import logging
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import QUEUE_DEPTH

log = logging.getLogger(__name__)


def _allowed(request: HttpRequest) -> bool:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return secrets.compare_digest(given, token)
    # Without a token, only the machine itself (or the private network of the deployment).
    try:
        addr = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private


def _refresh_queue_depth() -> None:
    if not settings.REDIS_URL:
        return
    try:
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=0.5)
        QUEUE_DEPTH.labels(queue="celery").set(client.llen("celery"))
    except Exception:  # noqa: BLE001 - a metric is not worth failing the scrape for
        log.debug("queue depth unavailable", exc_info=True)


def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponseForbidden("metrics are internal")
    _refresh_queue_depth()
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
