"""A bounded schemathesis run against /api/schema/: no server error, no response that breaks
the schema. Authenticated as a supervisor (the widest staff scope); the schema is read from the
app itself, in-process (WSGI), so it runs in CI without a server."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from contactcentre.wsgi import application

pytestmark = [pytest.mark.django_db]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Signed webhooks and the raw-mail pipe answer an unsigned fuzz request with 401 before reading
# the body; fuzzing them proves nothing beyond their own signature tests.
schema = schema.exclude(path_regex=r"^/api/v1/(intake/email|phone/|open311)|^/api/open311/")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():  # type: ignore[no-untyped-def]
    # The WSGI handler closes the DB connection after each request; inside a test transaction
    # that would end the test's own connection (Django's test client disconnects it the same way).
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def supervisor_token(db) -> str:  # type: ignore[no-untyped-def]
    from rest_framework.authtoken.models import Token

    from tests.factories import DepartmentFactory, TicketFactory, UserFactory

    DepartmentFactory(code="bygglov")
    TicketFactory()
    user = UserFactory(username="sara", role="supervisor")
    return Token.objects.create(user=user).key


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors_and_keeps_its_schema(case, supervisor_token: str) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers={"Authorization": f"Token {supervisor_token}"},
        checks=[checks.not_a_server_error, checks.response_schema_conformance, checks.content_type_conformance],
    )
