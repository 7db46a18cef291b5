"""The other ways in: the raw-mail HTTP pipe, the IMAP poller, the standalone SMTP command."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import tempfile

import pytest

from contactcentre.intake.mail import services as mail_services
from contactcentre.intake.mail.imap import imap_poll_once
from contactcentre.intake.mail.smtp import _embedded, start_embedded
from contactcentre.tickets.models import Message, Ticket
from tests.procs import REPO, database_url_of_test_db, free_port, wait_for_port

from .conftest import CITY, mail

SECRET = "s3cret-for-tests-only"


@pytest.fixture
def intake_secret(settings):
    settings.EMAIL_INTAKE_SECRET = SECRET
    return SECRET


def post_raw(api, raw: bytes, *, secret: str | None = SECRET, content_type: str = "message/rfc822"):
    headers = {"HTTP_X_EMAIL_INTAKE_SECRET": secret} if secret is not None else {}
    return api.generic("POST", "/api/v1/intake/email/", raw, content_type=content_type, **headers)


@pytest.mark.django_db
class TestHttpPipe:
    def test_stores_then_reports_a_duplicate(self, api, intake_secret, mail_sink):
        raw = mail(message_id="<http-1@mail.example.org>").as_bytes()
        first = post_raw(api, raw)
        assert first.status_code == 201, first.content
        assert first.json()["created"] is True and first.json()["reference"].startswith("SOL-")
        second = post_raw(api, raw, content_type="text/plain")
        assert second.status_code == 200 and second.json()["kind"] == "duplicate"
        assert Message.objects.filter(external_id="<http-1@mail.example.org>").count() == 1

    @pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
    def test_refuses_without_the_secret(self, api, intake_secret, secret):
        response = post_raw(api, mail().as_bytes(), secret=secret)
        assert response.status_code == 401
        assert Ticket.objects.count() == 0

    def test_an_unset_secret_opens_nothing(self, api, settings):
        settings.EMAIL_INTAKE_SECRET = ""
        assert post_raw(api, mail().as_bytes(), secret="").status_code == 401

    def test_empty_message_is_400(self, api, intake_secret):
        assert post_raw(api, b"").status_code == 400
        assert post_raw(api, b"From: a@example.org\r\nTo: kontakt@solna.example.org\r\n\r\n").status_code == 400

    def test_other_content_types_are_415(self, api, intake_secret):
        assert post_raw(api, b"{}", content_type="application/json").status_code == 415


class FakeImap:
    """The IMAP4 calls the poller makes, over an in-memory mailbox of uid -> (raw, flags)."""

    def __init__(self, messages: dict[str, bytes]) -> None:
        self.mailbox = {uid: (raw, set()) for uid, raw in messages.items()}
        self.calls: list[tuple[str, ...]] = []

    def select(self, mailbox: str = "INBOX", readonly: bool = False):
        return "OK", [str(len(self.mailbox)).encode()]

    def uid(self, command: str, *args: str):
        self.calls.append((command, *args))
        if command == "SEARCH":
            return "OK", [" ".join(u for u, (_, f) in self.mailbox.items() if "\\Seen" not in f).encode()]
        if command == "FETCH" and args[1] == "(RFC822.SIZE)":
            raw, _ = self.mailbox[args[0]]
            return "OK", [f"1 (UID {args[0]} RFC822.SIZE {len(raw)})".encode()]
        if command == "FETCH" and args[1] == "(BODY.PEEK[HEADER])":
            raw, _ = self.mailbox[args[0]]
            header = raw.split(b"\n\n", 1)[0] + b"\n\n"
            return "OK", [(f"1 (UID {args[0]} BODY[HEADER] {{{len(header)}}}".encode(), header), b")"]
        if command == "FETCH":
            raw, _ = self.mailbox[args[0]]
            return "OK", [(f"1 (UID {args[0]} BODY[] {{{len(raw)}}}".encode(), raw), b")"]
        if command == "STORE":
            flags = args[2].strip("()").split()
            self.mailbox[args[0]][1].update(flags)
            return "OK", [b""]
        raise AssertionError(command)


@pytest.mark.django_db
def test_imap_marks_seen_only_after_storing(monkeypatch, mail_sink):
    imap = FakeImap({"7": mail(message_id="<imap-7@x>").as_bytes(), "8": mail(message_id="<imap-8@x>", subject="Två").as_bytes()})
    real = mail_services.intake_receive

    def flaky(inbound):
        if inbound.external_id == "<imap-8@x>":
            raise RuntimeError("database is away")
        return real(inbound)

    monkeypatch.setattr(mail_services, "intake_receive", flaky)
    result = imap_poll_once(imap)
    assert result.stored == ["7"] and result.failed == ["8"]
    assert imap.mailbox["7"][1] == {"\\Seen"} and imap.mailbox["8"][1] == set()
    assert ("FETCH", "7", "(BODY.PEEK[])") in imap.calls  # PEEK: fetching alone never marks seen
    assert imap.calls.index(("STORE", "7", "+FLAGS", "(\\Seen)")) > imap.calls.index(("FETCH", "7", "(BODY.PEEK[])"))

    monkeypatch.setattr(mail_services, "intake_receive", real)
    again = imap_poll_once(imap)  # the next poll picks up what failed, and only that
    assert again.stored == ["8"]
    assert set(Message.objects.values_list("external_id", flat=True)) == {"<imap-7@x>", "<imap-8@x>"}


@pytest.mark.django_db
def test_imap_pins_the_department_from_the_to_header(mail_sink):
    from tests.factories import DepartmentFactory

    DepartmentFactory(code="bygglov", email="bygglov@solna.example.org")
    imap = FakeImap({"1": mail(to="bygglov@solna.example.org").as_bytes()})
    imap_poll_once(imap)
    assert Ticket.objects.get().department.code == "bygglov"


@pytest.mark.django_db(transaction=True)
@pytest.mark.live
def test_run_smtp_intake_command_stores_mail(mail_sink):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url_of_test_db(), "REDIS_URL": "", "CELERY_TASK_ALWAYS_EAGER": "1",
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
           "DJANGO_SETTINGS_MODULE": "contactcentre.settings", "CONTACTCENTRE_ROUTER": "contactcentre.intake.ports.null_router"}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "manage.py", "run_smtp_intake", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc=proc, timeout=30, log=log)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(mail(message_id="<cmd@x>"), from_addr="anna@example.org", to_addrs=[CITY])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert Message.objects.get().external_id == "<cmd@x>"


@pytest.mark.django_db(transaction=True)
def test_start_embedded_describes_a_listening_server(settings, mail_sink):
    settings.SMTP_INTAKE_PORT = free_port()
    description = start_embedded()
    try:
        assert description == f"SMTP intake     smtp://127.0.0.1:{settings.SMTP_INTAKE_PORT}"
        wait_for_port(settings.SMTP_INTAKE_PORT)
    finally:
        _embedded.pop().stop()


@pytest.mark.django_db
def test_imap_mail_over_the_size_limit_is_never_downloaded_and_its_header_is_quarantined(settings, mail_sink):
    from contactcentre.intake.mail.models import QuarantinedMail
    from contactcentre.intake.mail.services import mail_quarantine_reprocess
    from contactcentre.tickets.errors import DomainError

    settings.EMAIL_INTAKE_MAX_BYTES = 50_000
    big = mail(message_id="<imap-big@x>", subject="Ritningar", body="x" * 80_000).as_bytes()
    imap = FakeImap({"3": big, "4": mail(message_id="<imap-small@x>").as_bytes()})

    result = imap_poll_once(imap)

    assert result.too_large == ["3"] and result.stored == ["4"]
    assert ("FETCH", "3", "(BODY.PEEK[])") not in imap.calls  # the body never came over
    assert imap.mailbox["3"][1] == {"\\Seen", "\\Flagged"}  # left in the mailbox for a person
    item = QuarantinedMail.objects.get()
    assert item.reason == "too_large" and item.subject == "Ritningar"
    assert "Anna Andersson" in item.header_from and str(len(big)) in item.detail
    assert bytes(item.raw).startswith(b"From:") or b"From:" in bytes(item.raw)
    assert len(bytes(item.raw)) < 2_000
    assert Message.objects.get().external_id == "<imap-small@x>"
    with pytest.raises(DomainError):
        mail_quarantine_reprocess(quarantined_id=item.pk)  # only the header is here
    assert imap_poll_once(imap).too_large == []  # flagged seen: not taken again
