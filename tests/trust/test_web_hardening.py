"""Open redirects, the Content Security Policy, production cookies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.ops.test_production_settings import PROD, manage
from tests.procs import REPO

pytestmark = pytest.mark.django_db

HOSTILE_NEXT = [
    "https://evil.example.com/",
    "//evil.example.com/",
    "///evil.example.com/",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "https:evil.example.com",
    "javascript:alert(1)",
    " https://evil.example.com",
    "http://testserver@evil.example.com/",
]


def _stays_home(response) -> bool:  # type: ignore[no-untyped-def]
    location = response.get("Location", "")
    return "evil" not in location and not location.lower().startswith("javascript")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_refuses_foreign_next(target: str) -> None:
    UserFactory(username="anna", role="agent")
    client = Client()
    r = client.post(f"/accounts/login/?next={target}", {"username": "anna", "password": "correct-horse-battery",
                                                        "next": target})
    assert r.status_code == 302 and _stays_home(r), r.get("Location")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_logout_refuses_foreign_next(target: str) -> None:
    UserFactory(username="anna", role="agent")
    client = Client()
    client.login(username="anna", password="correct-horse-battery")
    r = client.post("/accounts/logout/", {"next": target})
    assert r.status_code == 302 and _stays_home(r), r.get("Location")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_set_language_refuses_foreign_next_and_referer(target: str) -> None:
    r = Client().post("/i18n/setlang/", {"language": "en", "next": target}, HTTP_REFERER=target)
    assert r.status_code in (204, 302) and _stays_home(r), r.get("Location")


def test_a_local_next_still_works() -> None:
    UserFactory(username="anna", role="agent")
    r = Client().post("/accounts/login/", {"username": "anna", "password": "correct-horse-battery",
                                           "next": "/console/"})
    assert r["Location"] == "/console/"


# --- Content Security Policy -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/docs/"])
def test_pages_carry_a_csp_that_blocks_inline_script(path: str) -> None:
    r = Client().get(path)
    policy = r["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/kunskap/", "/kontakt/", "/ataganden/"])
def test_our_pages_allow_no_inline_style(path: str) -> None:
    r = Client().get(path)
    assert r.status_code == 200
    directives = dict(d.strip().split(" ", 1) for d in r["Content-Security-Policy"].split(";") if d.strip())
    assert directives["style-src"] == "'self'"


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/"])
def test_only_third_party_pages_get_inline_style_and_never_inline_script(path: str) -> None:
    r = Client().get(path)
    directives = dict(d.strip().split(" ", 1) for d in r["Content-Security-Policy"].split(";") if d.strip())
    assert "'unsafe-inline'" in directives["style-src"]
    assert directives["script-src"] == "'self'"


INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=\s*[\"']", re.I)


def test_no_template_has_inline_style() -> None:
    offenders = []
    for root in ("frontend", "knowledge", "api", "contactcentre", "routing"):
        for template in (REPO / root).rglob("templates/**/*.html"):
            text = Path(template).read_text(encoding="utf-8")
            if match := INLINE_STYLE.search(text):
                offenders.append(f"{template.relative_to(REPO)}: {match.group(0)!r}")
    assert not offenders, offenders


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=\s*[\"']|href=[\"']javascript:", re.I)


def test_no_template_has_inline_script() -> None:
    """CSP would break these at run time; the test names them at build time."""
    offenders = []
    for root in ("frontend", "knowledge", "api", "contactcentre", "routing"):
        for template in (REPO / root).rglob("templates/**/*.html"):
            text = Path(template).read_text(encoding="utf-8")
            if match := INLINE_SCRIPT.search(text):
                offenders.append(f"{template.relative_to(REPO)}: {match.group(0)!r}")
    assert not offenders, offenders


def test_production_cookies_are_secure() -> None:
    code = ("from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SECURE, "
            "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)")
    result = manage("shell", "-c", code, env={**PROD, "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp2" * 10})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-6:] == ["True"] * 6


def test_csp_in_production_check_deploy_passes() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env={**PROD, "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp2" * 10})
    assert result.returncode == 0, result.stdout + result.stderr
