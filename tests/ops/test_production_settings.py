"""Production settings: refuse to start without secrets, and pass Django's deployment checks."""

import os
import subprocess
import sys

from tests.procs import REPO

PROD = {
    "CONTACTCENTRE_ENV": "production",
    "ALLOWED_HOSTS": "kontakt.example.org",
    "EMAIL_INTAKE_SECRET": "intake-secret-for-the-test",
    "CTI_WEBHOOK_SECRET": "cti-secret-for-the-test",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env=PROD)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env={**PROD, "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp2" * 10})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
