from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import DepartmentFactory, UserFactory

# In-process ASGI apps in tests build the routing model when a test asks for it, not in a thread
# racing the test database (server subprocesses inherit this too; they build on first request).
os.environ.setdefault("ROUTING_WARM_ON_START", "0")


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"contactcentre: database={db} channel_layer={layer} redis={'yes' if settings.REDIS_URL else 'no'}"]


@pytest.fixture(scope="session", autouse=True)
def _real_services_reachable() -> None:
    """When CI points us at real Redis, it must be there: fail, never fall back or skip."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()


@pytest.fixture(scope="session", autouse=True)
def _close_stray_db_sessions(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Threads of live servers and listeners may still hold a PostgreSQL session at the end;
    end them so the test database can be dropped cleanly."""
    yield
    from django.db import OperationalError, connection

    if connection.vendor != "postgresql":
        return
    try:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    except OperationalError:
        # A run of tests that never touched the database: pytest-django has already put the
        # settings back to the (never created) configured database; there is no session to end.
        pass


# Rows that data migrations seed (default commitments, root causes, the survey, Open311 services).
# A transactional test's flush removes them; they are seeded again, the same idempotent way.
DATA_MIGRATION_SEEDS = [
    ("contactcentre.commitments.migrations.0002_default_policies", "create"),
    ("contactcentre.complaints.migrations.0002_default_root_causes", "forwards"),
    ("contactcentre.experience.migrations.0002_default_survey", "forwards"),
    ("contactcentre.intake.open311.migrations.0002_seed_services", "seed"),
]


@pytest.fixture(autouse=True)
def _data_migration_rows(request):  # type: ignore[no-untyped-def]
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module, function in DATA_MIGRATION_SEEDS:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def eager_jobs():  # type: ignore[no-untyped-def]
    """Background jobs run in-process even when CI points Celery at Redis: no worker runs
    inside the test session (tests of the real worker topology start one themselves)."""
    from contactcentre.celery import app as celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_cache(settings) -> None:
    # Throttle counters and cached engines live in the cache; each test starts clean.
    cache.clear()
    from contactcentre.commitments.services import policies_changed

    policies_changed()  # a transactional test's flush removes the policy rows the cache held
    # Hashing speed is irrelevant to what the tests prove (the lockout tests count attempts).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def null_router(settings):
    """Route nothing: for tests of the ticket machinery that must not depend on the engine."""
    settings.CONTACTCENTRE_ROUTER = "contactcentre.intake.ports.null_router"


@pytest.fixture
def departments(db):
    return {
        code: DepartmentFactory(code=code, name=name)
        for code, name in [("bygglov", "Bygglov"), ("miljotillsyn", "Miljötillsyn"), ("kundtjanst", "Kundtjänst")]
    }


@pytest.fixture
def agent(db):
    return UserFactory(username="anna", role="agent", first_name="Anna")


@pytest.fixture
def agent2(db):
    return UserFactory(username="bertil", role="agent", first_name="Bertil")


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sara", role="supervisor")


@pytest.fixture
def caseworker(db, departments):
    return UserFactory(username="cecilia", role="caseworker", department=departments["bygglov"])


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def agent_api(agent) -> APIClient:
    return client_for(agent)


def web_enquiry(api: APIClient, **overrides):  # type: ignore[no-untyped-def]
    payload = {
        "name": "Anna Andersson",
        "email": "anna.andersson@example.org",
        "subject": "Fråga om bygglov",
        "message": "Hej, behöver jag bygglov för ett staket?",
        "language": "sv",
    } | overrides
    return api.post("/api/v1/intake/web/", payload, format="json")
