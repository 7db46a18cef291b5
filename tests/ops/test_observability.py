"""/metrics for Prometheus, structured logs for the pipeline."""

import json
import logging

import pytest
from django.test import Client
from pythonjsonlogger.json import JsonFormatter

from tests.conftest import web_enquiry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("null_router")]


def test_metrics_count_intake_and_time_requests(api, client):
    web_enquiry(api)
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'cc_intake_total{channel="web",outcome="new_ticket"}' in body
    assert 'cc_http_request_duration_seconds_count{method="POST",route="api:intake-web",status_class="2xx"}' in body


def test_metrics_are_internal(settings):
    assert Client(REMOTE_ADDR="8.8.8.8").get("/metrics").status_code == 403
    settings.METRICS_TOKEN = "scrape-token-for-tests"
    outside = Client(REMOTE_ADDR="8.8.8.8")
    assert outside.get("/metrics").status_code == 403
    assert outside.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-for-tests").status_code == 200


def test_json_log_lines_are_one_object_each():
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                              rename_fields={"levelname": "level", "name": "logger"})
    record = logging.LogRecord("contactcentre", logging.WARNING, __file__, 1, "live broadcast failed", None, None)
    line = json.loads(formatter.format(record))
    assert line["level"] == "WARNING" and line["logger"] == "contactcentre" and line["message"] == "live broadcast failed"
