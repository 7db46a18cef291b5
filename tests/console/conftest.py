"""A console under test: a real daphne on the test database, agents signed in through the form."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.procs import REPO, database_url_of_test_db, free_port, wait_for_port

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
INTAKE_SECRET = "console-intake-secret"


def server_env() -> dict[str, str]:
    return {
        "DATABASE_URL": database_url_of_test_db(),
        "CONTACTCENTRE_ROUTER": "contactcentre.intake.ports.null_router",
        "EMAIL_INTAKE_SECRET": INTAKE_SECRET,
        "CHAT_ALWAYS_OPEN": "true",
        "CHAT_REQUIRE_AGENT_ONLINE": "false",
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }


@contextmanager
def daphne_on(port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """daphne on a chosen port, so a test can stop it and start it again where clients expect it."""
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contactcentre.settings", **env}
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "contactcentre.asgi:application"],
        cwd=REPO, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc, timeout=30)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def console_server(db) -> Iterator[str]:
    port = free_port()
    with daphne_on(port, server_env()):
        yield f"http://127.0.0.1:{port}"


def sign_in(browser, base: str, username: str, *, viewport=None):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    context = browser.new_context(viewport=viewport or {"width": 1366, "height": 860}, locale="sv-SE")
    page = context.new_page()
    page.goto(f"{base}/console/")
    assert "/accounts/login/" in page.url  # sign-in first, then back to the console
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}/console/")
    expect(page.locator("body")).to_have_attribute("data-live", "up")
    return page
