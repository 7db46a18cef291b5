"""Oversized and malformed mail through the real SMTP listener (and the raw-mail endpoint).

Each case is stored as a ticket (with what could be salvaged) or held raw in quarantine with an
alert; "250" only for what we durably hold; and a normal mail right behind it, in the same SMTP
session and in a new one, becomes a ticket: a bad mail never blocks the mail behind it.
"""

from __future__ import annotations

import io
import os
import smtplib
import struct
import time
import traceback
import zipfile
import zlib
from functools import cache

import pytest
from django.core.management import call_command
from django.utils import timezone

from contactcentre.intake import services as intake_services
from contactcentre.intake.mail import services as mail_services
from contactcentre.intake.mail.models import QuarantinedMail
from contactcentre.intake.mail.quarantine import QUARANTINED_TOTAL
from contactcentre.tickets.models import Attachment, LiveEvent, Message, Ticket

from .conftest import CITY, mail

pytestmark = pytest.mark.django_db(transaction=True)

HEAD = (
    "From: Olle Resident <olle@example.org>\r\nTo: kontakt@solna.example.org\r\n"
    "Subject: {subject}\r\nMessage-ID: <{mid}@mail.example.org>\r\nMIME-Version: 1.0\r\n"
)


def head(mid: str, subject: str = "Fråga") -> bytes:
    return HEAD.format(mid=mid, subject=subject).encode()


def nested(depth: int, mid: str) -> bytes:
    out = head(mid) + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n'
    for i in range(1, depth):
        out += b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i - 1, i)
    out += b"--b%d\r\nContent-Type: text/plain\r\n\r\nlangst in\r\n" % (depth - 1)
    for i in reversed(range(depth)):
        out += b"--b%d--\r\n" % i
    return out


def many_parts(count: int, mid: str) -> bytes:
    out = head(mid) + b'Content-Type: multipart/mixed; boundary="P"\r\n\r\n--P\r\nContent-Type: text/plain\r\n\r\nHej\r\n'
    for i in range(count):
        out += (b'--P\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; '
                b'filename="del%d.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n' % i)
    return out + b"--P--\r\n"


@cache
def zip_bomb() -> bytes:
    """A valid zip of about 1 MB whose one member inflates to 1 GiB of zeros.

    Built without compressing a gigabyte: after a full flush deflate starts afresh, so every
    further megabyte of zeros compresses to the very same bytes, which are repeated."""
    mib, count = 1 << 20, 1024
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(bytes(mib)) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(bytes(mib)) + deflate.flush(zlib.Z_FULL_FLUSH)
    data = first + again * (count - 1) + deflate.flush(zlib.Z_FINISH)
    crc = 0
    zero = bytes(mib)
    for _ in range(count):
        crc = zlib.crc32(zero, crc)
    name, size = b"noll.bin", mib * count
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    archive = local + data + central + end
    assert zipfile.ZipFile(io.BytesIO(archive)).infolist()[0].file_size == size  # a real bomb
    return archive


def crlf(msg) -> bytes:
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


@cache
def oversized() -> bytes:
    """Over the 25 MB limit (26 MB of 998-character lines)."""
    line = b"x" * 998 + b"\r\n"
    return head("big") + b"\r\n" + line * (26 * 1024 * 1024 // len(line))


def normal(mid: str) -> bytes:
    return crlf(mail(subject="Bakom", body="Ett vanligt meddelande.", message_id=f"<{mid}@mail.example.org>"))


def stored(mid: str) -> Message:
    return Message.objects.get(external_id=f"<{mid}@mail.example.org>")


def send_then_normal(port: int, raw: bytes, tag: str) -> tuple[int, bytes]:
    """Send ``raw`` and, in the same session, a normal mail; then a normal mail in a new session.
    Returns the SMTP answer to ``raw``."""
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        client.mail("olle@example.org")
        client.rcpt(CITY)
        answer = client.data(raw)
        client.sendmail("anna@example.org", [CITY], normal(f"{tag}-same"))
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail("anna@example.org", [CITY], normal(f"{tag}-new"))
    assert stored(f"{tag}-same").ticket.channel == "email"
    assert stored(f"{tag}-new").ticket.channel == "email"
    return answer


def assert_quarantined(raw: bytes, answer: tuple[int, bytes], reason: str, caplog) -> QuarantinedMail:
    code, text = answer
    item = QuarantinedMail.objects.get(reason=reason)
    assert code == 250 and f"quarantine {item.pk}".encode() in text
    assert bytes(item.raw) == raw and item.size == len(raw)  # the exact bytes, durably
    assert item.status == "quarantined" and item.envelope_from == "olle@example.org" and item.envelope_to == [CITY]
    # No ticket was made from it (only the two normal mails behind it).
    assert Message.objects.filter(direction="inbound").count() == 2
    # The alert: an ERROR record, the counters, a durable live event for the staff.
    assert any(r.levelname == "ERROR" and "quarantined" in r.getMessage() for r in caplog.records)
    assert QUARANTINED_TOTAL.labels(reason=reason)._value.get() >= 1
    event = LiveEvent.objects.get(type="mail.quarantined")
    assert event.payload["quarantine_id"] == item.pk and event.payload["reason"] == reason
    return item


# --- size ---------------------------------------------------------------------------------------

def test_over_the_size_limit_at_data_is_552_with_nothing_stored(smtp_intake, mail_sink):
    raw = oversized()
    answer = send_then_normal(smtp_intake, raw, "big")
    assert answer[0] == 552  # the sender's MTA bounces it to the resident: refused, never lost
    assert not QuarantinedMail.objects.exists()
    assert Message.objects.filter(direction="inbound").count() == 2


def test_a_declared_size_over_the_limit_is_refused_before_the_data(smtp_intake, settings):
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as client:
        client.ehlo()
        assert int(client.esmtp_features["size"]) == settings.EMAIL_INTAKE_MAX_BYTES
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("olle@example.org", [CITY], oversized())  # smtplib declares SIZE=
        assert refused.value.smtp_code == 552
        client.rset()
        client.sendmail("anna@example.org", [CITY], normal("size-same"))
    assert stored("size-same") and not QuarantinedMail.objects.exists()


def test_a_large_mail_within_the_limit_is_stored_whole(smtp_intake, mail_sink, settings):
    content = bytes(range(256)) * (17 * 1024 * 1024 // 256)  # 17 MB: about 23 MB base64 on the wire
    msg = mail(subject="Ritningar", body="Bifogar ritningarna.", message_id="<large@mail.example.org>")
    msg.add_attachment(content, maintype="application", subtype="pdf", filename="ritningar.pdf")
    raw = crlf(msg)
    assert 20 * 1024 * 1024 < len(raw) <= settings.EMAIL_INTAKE_MAX_BYTES
    assert send_then_normal(smtp_intake, raw, "large")[0] == 250
    attachment = Attachment.objects.get(message=stored("large"))
    assert attachment.size == len(content)
    with attachment.file.open("rb") as f:
        assert f.read() == content


def test_lines_longer_than_rfc_5321_allows_are_taken(smtp_intake, mail_sink):
    # RFC 5321 4.5.3.1.6 says 1000 octets a line; webmail HTML on one line is far longer, and
    # bouncing it would lose a resident's mail. Taken up to EMAIL_INTAKE_MAX_LINE_BYTES.
    text = ("Jag undrar över bygglov för mitt staket. " * 2500).strip()  # ~100 KB on one line
    raw = head("htmlline") + b"\r\n" + text.encode() + b"\r\n"
    assert send_then_normal(smtp_intake, raw, "htmlline")[0] == 250
    assert stored("htmlline").body_text.strip() == text


def test_a_line_over_the_line_limit_is_refused_permanently_and_nothing_is_stored(smtp_intake, mail_sink):
    # Past EMAIL_INTAKE_MAX_LINE_BYTES (1 MB) aiosmtpd answers 500 at the end of DATA (the
    # sender's MTA bounces it to the resident); the session goes on.
    raw = head("longline") + b"\r\n" + b"a" * 5_000_000 + b"\r\n"
    assert send_then_normal(smtp_intake, raw, "longline")[0] == 500
    assert not QuarantinedMail.objects.exists()
    assert not Message.objects.filter(external_id="<longline@mail.example.org>").exists()


# --- structure: over a limit -> quarantine ------------------------------------------------------

def test_five_hundred_parts_are_quarantined_before_parsing(smtp_intake, mail_sink, caplog, monkeypatch):
    raw = many_parts(500, "parts")
    parsed = []
    real_parse = mail_services.mail_parse
    monkeypatch.setattr(mail_services, "mail_parse", lambda raw, **kw: parsed.append(1) or real_parse(raw, **kw))
    answer = send_then_normal(smtp_intake, raw, "parts")
    item = assert_quarantined(raw, answer, "too_many_parts", caplog)
    assert item.subject == "Fråga" and item.header_from == "Olle Resident <olle@example.org>"
    assert len(parsed) == 2  # only the two normal mails were parsed: the limit came first


@pytest.mark.parametrize("depth", [200, 1000])
def test_deeply_nested_multiparts_are_quarantined(smtp_intake, mail_sink, caplog, depth):
    # 1000 levels make the standard parser raise RecursionError after seconds of work.
    raw = nested(depth, f"deep{depth}")
    answer = send_then_normal(smtp_intake, raw, f"deep{depth}")
    assert_quarantined(raw, answer, "too_deep", caplog)


def test_nesting_and_parts_within_the_limits_are_stored(smtp_intake, mail_sink, settings):
    assert send_then_normal(smtp_intake, nested(settings.EMAIL_INTAKE_MAX_DEPTH, "deep-ok"), "deep-ok")[0] == 250
    assert stored("deep-ok").body_text == "langst in"
    assert send_then_normal(smtp_intake, many_parts(50, "parts-ok"), "parts-ok")[0] == 250
    assert stored("parts-ok").attachments.count() == 50


def test_too_many_header_fields_are_quarantined(smtp_intake, mail_sink, caplog, settings):
    raw = head("headers") + b"".join(b"X-Spam-%d: ja\r\n" % i for i in range(settings.EMAIL_INTAKE_MAX_HEADERS + 1)) + b"\r\nHej\r\n"
    answer = send_then_normal(smtp_intake, raw, "headers")
    assert_quarantined(raw, answer, "too_many_headers", caplog)


# --- broken but salvageable -> a ticket ---------------------------------------------------------

def test_no_from_header_is_stored_without_a_receipt(smtp_intake, mail_sink):
    raw = b"To: kontakt@solna.example.org\r\nSubject: Utan avsandare\r\nMessage-ID: <nofrom@mail.example.org>\r\n\r\nHej!\r\n"
    assert send_then_normal(smtp_intake, raw, "nofrom")[0] == 250
    message = stored("nofrom")
    assert message.body_text == "Hej!" and message.ticket.subject == "Utan avsandare"
    assert message.meta["email"]["from"] == ""
    time.sleep(0.3)
    # Receipts went only to the two normal mails' sender.
    assert all(m["To"] == "anna@example.org" for m in mail_sink.messages)


def test_an_unparseable_date_is_received_at_our_clock(smtp_intake, mail_sink):
    raw = head("baddate") + b"Date: Tisdag i nasta vecka 25:61:99 +9999\r\n\r\nHej\r\n"
    before = timezone.now()
    assert send_then_normal(smtp_intake, raw, "baddate")[0] == 250
    message = stored("baddate")
    assert before <= message.created_at <= timezone.now()
    assert before <= message.ticket.created_at <= timezone.now()


def test_broken_charsets_and_undecodable_bytes_are_salvaged(smtp_intake, mail_sink):
    raw = (
        b"From: \xff\xfe Olle <olle@example.org>\r\nTo: kontakt@solna.example.org\r\n"
        b"Subject: =?x-bogus?B?////?= tr\xe4d \xff\r\nMessage-ID: <charset@mail.example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"C\"\r\n\r\n"
        b"--C\r\nContent-Type: text/plain; charset=x-nonsense\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Tr\xe4det p\xe5 g\xe5rden \xff\xfe\x00 har fallit\r\n"
        b"--C\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=\"\xff\xfe.txt\"\r\n\r\n"
        b"\xc3\x28 invalid utf-8\r\n--C--\r\n"
    )
    assert send_then_normal(smtp_intake, raw, "charset")[0] == 250
    message = stored("charset")
    assert message.body_text == "Trädet på gården ÿþ har fallit"  # windows-1252 fallback; NUL dropped
    assert "träd" in message.ticket.subject.lower() or "\ufffd" in message.ticket.subject
    assert message.attachments.count() == 1
    assert message.meta["email"]["from"] == "olle@example.org"


def test_a_zip_bomb_is_stored_as_is_and_never_expanded(smtp_intake, mail_sink, monkeypatch):
    bomb = zip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    opened = []
    real_init = zipfile.ZipFile.__init__

    def guarded_init(self, file, *args, **kwargs):
        # Python itself opens zips (importlib.metadata scans sys.path); only ours is forbidden.
        head_bytes = b""
        if isinstance(file, (str, os.PathLike)) and os.path.isfile(file):
            with open(file, "rb") as f:
                head_bytes = f.read(64)
        elif hasattr(file, "read") and hasattr(file, "seek"):
            position = file.tell()
            head_bytes = file.read(64)
            file.seek(position)
        if head_bytes == bomb[:64]:
            opened.append("".join(traceback.format_stack(limit=12)))
            raise AssertionError("the attachment was opened")
        real_init(self, file, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "__init__", guarded_init)
    msg = mail(subject="Bilaga", body="Se bifogad fil.", message_id="<bomb@mail.example.org>")
    msg.add_attachment(bomb, maintype="application", subtype="zip", filename="dokument.zip")
    assert send_then_normal(smtp_intake, crlf(msg), "bomb")[0] == 250
    attachment = Attachment.objects.get(message=stored("bomb"))
    assert attachment.size == len(bomb) and attachment.filename == "dokument.zip"
    with attachment.file.open("rb") as f:
        assert f.read() == bomb
    assert opened == [], opened[0]


# --- failures a retry cannot fix -> quarantine; a retry can -> 451 ------------------------------

def test_a_mail_whose_parsing_raises_is_quarantined_and_can_be_reprocessed(smtp_intake, mail_sink, caplog, monkeypatch):
    real_parse = mail_services.mail_parse

    def parse(raw, **kwargs):
        if b"<boom@" in raw:
            raise ValueError("the parser has a bug")
        return real_parse(raw, **kwargs)

    monkeypatch.setattr(mail_services, "mail_parse", parse)
    raw = head("boom") + b"\r\nHej, trasig?\r\n"
    answer = send_then_normal(smtp_intake, raw, "boom")
    item = assert_quarantined(raw, answer, "parse_error", caplog)
    assert "ValueError: the parser has a bug" in item.detail

    with pytest.raises(ValueError):  # still broken: it stays in quarantine
        mail_services.mail_quarantine_reprocess(quarantined_id=item.pk)
    item.refresh_from_db()
    assert item.status == "quarantined"

    monkeypatch.setattr(mail_services, "mail_parse", real_parse)  # the fix is deployed
    call_command("mail_quarantine", "reprocess", str(item.pk))
    item.refresh_from_db()
    assert item.status == "reprocessed" and item.reprocessed_at is not None
    assert item.ticket == stored("boom").ticket


def test_a_mail_that_keeps_failing_to_store_is_quarantined_not_retried_forever(smtp_intake, mail_sink, caplog,
                                                                              monkeypatch, settings):
    real = intake_services.intake_receive

    def receive(inbound):
        if inbound.external_id == "<unstorable@mail.example.org>":
            raise ValueError("a value this mail carries cannot be stored")
        return real(inbound)

    monkeypatch.setattr(mail_services, "intake_receive", receive)
    raw = head("unstorable") + b"\r\nHej\r\n"
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as client:
        for _ in range(settings.EMAIL_INTAKE_POISON_AFTER - 1):  # could be passing: try again later
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("olle@example.org", [CITY], raw)
            assert refused.value.smtp_code == 451
    assert not QuarantinedMail.objects.exists()
    answer = send_then_normal(smtp_intake, raw, "unstorable")  # the sender's last retry
    assert_quarantined(raw, answer, "store_error", caplog)


def test_a_value_the_database_refuses_is_quarantined_at_once(smtp_intake, mail_sink, caplog, monkeypatch):
    from django.db import DataError

    def receive(inbound):
        raise DataError("value too long for type character varying(300)")

    raw = head("dataerror") + b"\r\nHej\r\n"
    real = intake_services.intake_receive
    monkeypatch.setattr(mail_services, "intake_receive",
                        lambda inbound: receive(inbound) if inbound.external_id == "<dataerror@mail.example.org>" else real(inbound))
    answer = send_then_normal(smtp_intake, raw, "dataerror")
    assert_quarantined(raw, answer, "store_error", caplog)


def test_a_database_outage_is_451_and_nothing_is_quarantined(smtp_intake, mail_sink, monkeypatch):
    from django.db import OperationalError

    def receive(inbound):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(mail_services, "intake_receive", receive)
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("olle@example.org", [CITY], head("outage") + b"\r\nHej\r\n")
    assert refused.value.smtp_code == 451  # the sender keeps it and retries
    assert not QuarantinedMail.objects.exists() and not Ticket.objects.exists()


def test_the_same_bytes_twice_are_one_quarantine_row(smtp_intake, mail_sink):
    raw = many_parts(300, "twice")
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as client:
        client.sendmail("olle@example.org", [CITY], raw)
        client.sendmail("olle@example.org", [CITY], raw)
    assert QuarantinedMail.objects.count() == 1


def test_reprocess_with_the_limits_lifted_after_an_operator_looked(smtp_intake, mail_sink, settings):
    raw = head("lifted") + b"".join(b"X-Relay-%d: ja\r\n" % i for i in range(settings.EMAIL_INTAKE_MAX_HEADERS + 5)) + b"\r\nHej\r\n"
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as client:
        client.sendmail("olle@example.org", [CITY], raw)
    item = QuarantinedMail.objects.get()
    out = io.StringIO()
    call_command("mail_quarantine", "list", stdout=out)
    assert f"{item.pk}" in out.getvalue() and "too_many_headers" in out.getvalue()
    with pytest.raises(mail_services.MailUnprocessable):
        mail_services.mail_quarantine_reprocess(quarantined_id=item.pk)
    call_command("mail_quarantine", "reprocess", str(item.pk), "--ignore-limits", stdout=out)
    item.refresh_from_db()
    assert item.status == "reprocessed" and stored("lifted").body_text == "Hej"


def test_raw_mail_endpoint_quarantines_too(api, settings, mail_sink):
    settings.EMAIL_INTAKE_SECRET = "s3cret"
    raw = nested(500, "pipe")
    response = api.generic("POST", "/api/v1/intake/email/", raw, content_type="message/rfc822",
                           HTTP_X_EMAIL_INTAKE_SECRET="s3cret")
    assert response.status_code == 200 and response.json()["kind"] == "quarantined"
    assert bytes(QuarantinedMail.objects.get(reason="too_deep").raw) == raw
    response = api.generic("POST", "/api/v1/intake/email/", normal("pipe-next"), content_type="message/rfc822",
                           HTTP_X_EMAIL_INTAKE_SECRET="s3cret")
    assert response.status_code == 201 and stored("pipe-next")


def test_quarantine_in_the_admin(client, django_user_model, smtp_intake, mail_sink):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw-for-the-admin-1")
    with smtplib.SMTP("127.0.0.1", smtp_intake, timeout=30) as c:
        c.sendmail("olle@example.org", [CITY], nested(100, "admin"))
    item = QuarantinedMail.objects.get()
    client.force_login(admin)
    listing = client.get("/admin/mail/quarantinedmail/")
    assert listing.status_code == 200 and "För djup nästling" in listing.content.decode()
    raw = client.get(f"/admin/mail/quarantinedmail/{item.pk}/raw/")
    assert raw.status_code == 200 and raw.content == bytes(item.raw)
    assert raw["Content-Disposition"].startswith("attachment")
