"""Production web processes use a bounded PostgreSQL pool, not a connection per request thread.

Under ASGI each in-flight request runs in its own thread; with persistent connections that is one
PostgreSQL session per concurrent request (the intake benchmark ran out of max_connections at 64
concurrent intakes). Settings only: nothing here connects to a database.
"""

import json
import os
import subprocess
import sys

from tests.procs import REPO

PROD = {
    "CONTACTCENTRE_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-" + "x7Qp2" * 10,
    "ALLOWED_HOSTS": "kontakt.example.org",
    "EMAIL_INTAKE_SECRET": "intake-secret-for-the-test",
    "CTI_WEBHOOK_SECRET": "cti-secret-for-the-test",
    "DATABASE_URL": "postgres://cc@db.invalid:5432/contactcentre",
}
SHOW = ("import json; from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(json.dumps({'age': d['CONN_MAX_AGE'], 'pool': d.get('OPTIONS', {}).get('pool')}))")


def database_settings(env: dict[str, str]) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_POOL", "DATABASE_URL", "DEBUG"))}
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW], cwd=REPO, env={**base, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_pools_connections_per_process():
    assert database_settings(PROD) == {"age": 0, "pool": {"min_size": 1, "max_size": 8, "timeout": 20.0}}


def test_pool_size_comes_from_the_environment_and_zero_turns_it_off():
    assert database_settings({**PROD, "DB_POOL_MAX_SIZE": "4"})["pool"]["max_size"] == 4
    assert database_settings({**PROD, "DB_POOL_MAX_SIZE": "0"}) == {"age": 60, "pool": None}


def test_the_pool_driver_is_installed():
    import psycopg_pool  # noqa: F401 - Django's pool option needs it (psycopg[pool])
