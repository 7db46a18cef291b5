import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_create_agent_with_a_generated_password(capsys):
    call_command("create_agent", "nils", "--role", "agent", "--languages", "sv,fi")
    out = capsys.readouterr().out
    assert "Created nils (agent)" in out
    password = out.split("shown once): ")[1].strip()
    user = User.objects.get(username="nils")
    assert user.check_password(password) and user.role == "agent" and user.languages == ["sv", "fi"]
    assert not user.is_superuser


def test_create_caseworker_needs_a_known_department():
    with pytest.raises(CommandError, match="needs --department"):
        call_command("create_agent", "cw", "--role", "caseworker")
    with pytest.raises(CommandError, match="Unknown department 'nope'"):
        call_command("create_agent", "cw", "--role", "caseworker", "--department", "nope")
    assert not User.objects.filter(username="cw").exists()
    DepartmentFactory(code="bygglov")
    call_command("create_agent", "cw", "--role", "caseworker", "--department", "bygglov", "--password", "a-Long-passw0rd-here")
    user = User.objects.get(username="cw")
    assert user.department.code == "bygglov" and user.check_password("a-Long-passw0rd-here")


def test_weak_passwords_are_refused():
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_agent", "weak", "--role", "agent", "--password", "123")
    assert not User.objects.filter(username="weak").exists()


def test_admin_role_gets_django_admin():
    call_command("create_agent", "root", "--role", "admin", "--password", "a-Long-passw0rd-here")
    user = User.objects.get(username="root")
    assert user.is_staff and user.is_superuser


def test_health_endpoints(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    body = client.get("/readyz").json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
