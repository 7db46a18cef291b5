"""Real mail over SMTP (smtplib) to the running intake listener: each lands as specified."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from contactcentre.intake import services as intake_services
from contactcentre.intake.mail import services as mail_services
from contactcentre.intake.mail.models import AutoReply
from contactcentre.intake.ports import RoutingOutcome
from contactcentre.tickets.models import Attachment, Message, Ticket, TicketEvent
from contactcentre.tickets.services import ticket_reply
from tests.factories import DepartmentFactory

from .conftest import CITY, mail, send

pytestmark = pytest.mark.django_db(transaction=True)


def dsn_for(original_message_id: str) -> bytes:
    """A delivery status notification as Postfix writes it (RFC 3464)."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n"
        f"To: {CITY}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.org>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        "Final-Recipient: rfc822; anna@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B\r\nContent-Type: message/rfc822\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: Re: Fraga\r\n\r\nSvar: nej\r\n"
        "--B--\r\n"
    ).encode()


def only_ticket() -> Ticket:
    return Ticket.objects.get()


def test_plain_mail_becomes_a_ticket_and_gets_a_threaded_receipt(smtp_intake, mail_sink):
    msg = mail(message_id="<plain-1@mail.example.org>")
    send(smtp_intake, msg)

    ticket = only_ticket()
    assert ticket.channel == "email" and ticket.status == "new"
    assert ticket.subject == "Fråga om bygglov"
    assert ticket.contact.name == "Anna Andersson"
    assert list(ticket.contact.emails.values_list("address", flat=True)) == ["anna@example.org"]
    message = ticket.messages.get()
    assert message.direction == "inbound"
    assert message.external_id == "<plain-1@mail.example.org>"
    assert message.body_text == "Hej, behöver jag bygglov för ett staket?"
    assert message.meta["email"]["envelope_to"] == [CITY]

    [receipt] = mail_sink.wait_for(1)
    assert receipt["To"] == "anna@example.org"
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["In-Reply-To"] == "<plain-1@mail.example.org>"
    assert receipt["Reply-To"] == CITY
    assert f"[{ticket.reference}]" in receipt["Subject"]
    text = receipt.get_content()
    assert "Vi har tagit emot ditt meddelande" in text
    assert f"ditt ärendenummer är {ticket.reference}" in text and "2 arbetsdagar" in text
    assert "/arende/" in text
    record = AutoReply.objects.get(ticket=ticket)
    assert record.status == "sent" and record.message_id == receipt["Message-ID"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="receipt_sent").exists()


def test_receipt_is_in_the_ticket_language(smtp_intake, mail_sink, router):
    router.outcome = RoutingOutcome(action="agent", language="fi")
    send(smtp_intake, mail(subject="Kysymys", body="Hei, kysymys rakennusluvasta."))
    [receipt] = mail_sink.wait_for(1)
    assert "Olemme vastaanottaneet viestisi" in receipt.get_content()


def test_html_only_mail_is_sanitised_and_readable(smtp_intake, mail_sink):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bo@example.org", CITY, "Gatlampa"
    msg.set_content(
        "<html><body><p>Hej!</p><p>Gatlampan på <b>Storgatan 3</b> är trasig.<script>alert(1)</script></p>"
        "<ul><li>sedan måndag</li><li>blinkar</li></ul>"
        '<p><a href="https://example.org/karta" onclick="x()">karta</a></p></body></html>',
        subtype="html",
    )
    send(smtp_intake, msg, sender="bo@example.org")

    message = only_ticket().messages.get()
    assert "<" not in message.body_text and "alert" not in message.body_text
    assert message.body_text.startswith("Hej!\n\nGatlampan på Storgatan 3 är trasig.")
    assert "- sedan måndag\n- blinkar" in message.body_text
    assert "karta (https://example.org/karta)" in message.body_text
    assert "<script" not in message.body_html and "onclick" not in message.body_html
    assert "<b>Storgatan 3</b>" in message.body_html


def test_multipart_with_attachments_stores_each_file(smtp_intake, mail_sink):
    msg = mail(subject="Ritningar", body="Här är ritningarna.")
    msg.add_alternative("<p>Här är <i>ritningarna</i>.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="ritning_åäö.pdf")
    msg.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", filename="foto.png")
    send(smtp_intake, msg)

    message = only_ticket().messages.get()
    assert message.body_text == "Här är ritningarna."  # text/plain preferred
    assert "<i>ritningarna</i>" in message.body_html
    files = {a.filename: a for a in Attachment.objects.filter(message=message)}
    assert set(files) == {"ritning_åäö.pdf", "foto.png"}
    assert files["ritning_åäö.pdf"].content_type == "application/pdf"
    assert files["ritning_åäö.pdf"].file.read() == b"%PDF-1.4 fake"
    assert files["foto.png"].size == len(b"\x89PNG\r\n\x1a\nfake")


def test_iso_8859_1_body_and_encoded_word_headers_are_decoded(smtp_intake, mail_sink):
    raw = (
        "From: =?iso-8859-1?q?G=F6ran_=C5kesson?= <goran@example.org>\r\n"
        f"To: {CITY}\r\n"
        "Subject: =?iso-8859-1?q?Fr=E5ga_om_v=E4g?=\r\n"
        "Message-ID: <latin1@mail.example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "V=E4gen vid sj=F6n =E4r full av h=E5l.\r\n"
    ).encode("ascii")
    send(smtp_intake, raw, sender="goran@example.org")

    ticket = only_ticket()
    assert ticket.subject == "Fråga om väg"
    assert ticket.contact.name == "Göran Åkesson"
    assert ticket.messages.get().body_text == "Vägen vid sjön är full av hål."


def test_windows_1252_body_is_decoded(smtp_intake, mail_sink):
    msg = MIMEText("Det kostar 100 € – ”ungefär”.", "plain", "windows-1252")
    msg["From"], msg["To"], msg["Subject"] = "c@example.org", CITY, "Avgift"
    send(smtp_intake, msg.as_bytes(), sender="c@example.org")
    assert only_ticket().messages.get().body_text == "Det kostar 100 € – ”ungefär”."


def test_reply_threads_by_in_reply_to_and_by_subject_reference(smtp_intake, mail_sink):
    send(smtp_intake, mail(message_id="<first@mail.example.org>"))
    ticket = only_ticket()

    reply = mail(subject="Re: Fråga om bygglov", body="Tillägg: staketet är 1,2 m.\n\nDen 1 maj skrev kontakt:\n> Hej",
                 message_id="<second@mail.example.org>", In_Reply_To="<first@mail.example.org>",
                 References="<first@mail.example.org>")
    send(smtp_intake, reply)
    by_subject = mail(subject=f"Ännu en sak [{ticket.reference}]", body="Och grinden?", message_id="<third@mail.example.org>")
    send(smtp_intake, by_subject)

    assert Ticket.objects.count() == 1
    assert list(ticket.messages.values_list("external_id", flat=True)) == [
        "<first@mail.example.org>", "<second@mail.example.org>", "<third@mail.example.org>"]
    second = ticket.messages.get(external_id="<second@mail.example.org>")
    # The quoted history is kept in the record and folded in the view.
    assert "> Hej" in second.body_text
    assert second.body_text[: second.meta["email"]["fold_at"]].strip() == "Tillägg: staketet är 1,2 m."
    assert len(mail_sink.wait_for(1)) == 1  # a receipt for the new ticket only
    assert AutoReply.objects.count() == 1


def test_same_sender_new_subject_is_a_new_ticket(smtp_intake, mail_sink):
    send(smtp_intake, mail(subject="Bygglov"))
    send(smtp_intake, mail(subject="Soptunnan"))
    assert Ticket.objects.count() == 2
    assert len({t.contact_id for t in Ticket.objects.all()}) == 1


def test_the_same_message_id_twice_is_stored_once(smtp_intake, mail_sink):
    msg = mail(message_id="<twice@mail.example.org>")
    send(smtp_intake, msg)
    send(smtp_intake, msg)  # the sending server retried after a lost "250": still accepted
    assert Ticket.objects.count() == 1 and Message.objects.count() == 1
    assert len(mail_sink.wait_for(1)) == 1


@pytest.mark.parametrize(
    ("headers", "envelope_sender"),
    [
        ({"Auto_Submitted": "auto-replied"}, "anna@example.org"),
        ({"Precedence": "bulk"}, "anna@example.org"),
        ({"List_Id": "<nyheter.example.org>", "List_Unsubscribe": "<mailto:u@example.org>"}, "anna@example.org"),
        ({}, ""),  # null sender <>
    ],
    ids=["auto-submitted", "precedence-bulk", "mailing-list", "null-sender"],
)
def test_automatic_mail_gets_no_automatic_reply(smtp_intake, mail_sink, router, headers, envelope_sender):
    # Even a confident knowledge-base answer is not sent to a robot.
    router.outcome = RoutingOutcome(action="answer", article="bygglov-staket", confidence=0.99,
                                    answer_title="Staket", answer_text="Staket under 1,1 m kräver inte bygglov.")
    send(smtp_intake, mail(subject="Frånvaro: Fråga", **headers), sender=envelope_sender)

    ticket = only_ticket()
    message = ticket.messages.get()  # the inbound mail only: no automatic answer was stored
    assert message.meta["email"]["no_auto_reply"]
    assert ticket.status == "new"
    assert mail_sink.wait_for(1, timeout=0.5) == []
    assert AutoReply.objects.count() == 0


def test_knowledge_base_answer_replaces_the_receipt(smtp_intake, mail_sink, router):
    router.outcome = RoutingOutcome(action="answer", article="bygglov-staket", confidence=0.99,
                                    answer_title="Staket", answer_text="Staket under 1,1 m kräver inte bygglov.")
    send(smtp_intake, mail(message_id="<kb@mail.example.org>"))
    ticket = only_ticket()
    [answer] = mail_sink.wait_for(1)
    assert "kräver inte bygglov" in answer.get_content()
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["In-Reply-To"] == "<kb@mail.example.org>"
    assert ticket.messages.get(direction="outbound").delivery_status == "sent"
    assert AutoReply.objects.get().kind == "answer"


def test_automatic_replies_are_rate_limited_per_sender(smtp_intake, mail_sink, settings):
    settings.EMAIL_AUTO_REPLY_MAX_PER_HOUR = 2
    for n in range(4):
        send(smtp_intake, mail(subject=f"Fråga {n}"))
    assert Ticket.objects.count() == 4
    assert len(mail_sink.wait_for(3, timeout=1)) == 2
    assert Message.objects.filter(meta__email__no_auto_reply=["rate-limited"]).count() == 2


def test_different_sender_quoting_a_reference_is_held(smtp_intake, mail_sink):
    send(smtp_intake, mail(message_id="<owner@mail.example.org>"))
    original = only_ticket()
    intruder = mail(sender="Eve <eve@example.net>", subject=f"Re: [{original.reference}]", body="Vad står det i ärendet?",
                    In_Reply_To="<owner@mail.example.org>")
    send(smtp_intake, intruder, sender="eve@example.net")

    held = Ticket.objects.exclude(pk=original.pk).get()
    assert held.held_for_id == original.pk
    assert original.messages.count() == 1  # nothing was added to Anna's ticket
    assert TicketEvent.objects.filter(ticket=held, kind="thread_held", to_value=original.reference).exists()
    assert [m["To"] for m in mail_sink.wait_for(2, timeout=1)] == ["anna@example.org"]  # no receipt to Eve


def test_a_bounce_marks_our_outbound_mail_failed_on_its_ticket(smtp_intake, mail_sink, agent):
    send(smtp_intake, mail(message_id="<asks@mail.example.org>"))
    ticket = only_ticket()
    reply = ticket_reply(ticket_id=ticket.pk, actor=agent, body="Svar: nej, det behövs inte.")
    reply.refresh_from_db()
    assert reply.delivery_status == "sent" and reply.external_id.startswith("<")

    dsn = dsn_for(reply.external_id)
    send(smtp_intake, dsn, sender="")
    send(smtp_intake, dsn, sender="")  # a repeated DSN changes nothing more

    assert Ticket.objects.count() == 1
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"
    assert "5.1.1" in reply.delivery_error and "user unknown" in reply.delivery_error
    assert TicketEvent.objects.filter(ticket=ticket, kind="delivery_failed", to_value=str(reply.pk)).count() == 1
    assert ticket.messages.count() == 2  # the bounce is not a resident's message


def test_unknown_recipient_is_refused_at_rcpt(smtp_intake):
    with smtplib.SMTP("127.0.0.1", smtp_intake) as client:
        client.ehlo()
        client.mail("anna@example.org")
        code, reply = client.rcpt("nobody@solna.example.org")
        assert code == 550
        client.rset()
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send(smtp_intake, mail(to="nobody@solna.example.org"), to=["nobody@solna.example.org"])
    assert Ticket.objects.count() == 0


def test_a_department_address_pins_the_department(smtp_intake, mail_sink):
    DepartmentFactory(code="bygglov", email="bygglov@solna.example.org")
    send(smtp_intake, mail(to="bygglov@solna.example.org"), to=["Bygglov@Solna.Example.org"])
    assert only_ticket().department.code == "bygglov"


def test_oversize_mail_is_refused_with_552(settings, mail_sink):
    settings.EMAIL_INTAKE_MAX_BYTES = 2_000
    from contactcentre.intake.mail.smtp import IntakeController
    from tests.procs import free_port

    port = free_port()
    controller = IntakeController(host="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPException) as caught:
            send(port, mail(body="x" * 10_000))
        code = getattr(caught.value, "smtp_code", None) or caught.value.recipients[  # type: ignore[attr-defined]
            next(iter(caught.value.recipients))][0]
        assert code == 552
    finally:
        controller.stop()
    assert Ticket.objects.count() == 0


def test_storage_failure_answers_451_and_stores_nothing(smtp_intake, mail_sink, monkeypatch):
    def broken(inbound):
        raise RuntimeError("database is away")

    monkeypatch.setattr(mail_services, "intake_receive", broken)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        send(smtp_intake, mail())
    assert caught.value.smtp_code == 451
    assert Ticket.objects.count() == 0 and Message.objects.count() == 0
    assert mail_sink.wait_for(1, timeout=0.3) == []

    monkeypatch.setattr(mail_services, "intake_receive", intake_services.intake_receive)
    send(smtp_intake, mail())  # the sending server's retry succeeds
    assert Ticket.objects.count() == 1


def test_forwarded_mail_and_pdf_survive_together(smtp_intake, mail_sink):
    outer = MIMEMultipart()
    outer["From"], outer["To"], outer["Subject"] = "anna@example.org", CITY, "Fwd: beslut"
    outer.attach(MIMEText("Se vidarebefordrat.", "plain", "utf-8"))
    inner = EmailMessage()
    inner["Subject"] = "Beslut"
    inner.set_content("Beslutet bifogas.")
    outer.attach(MIMEMessage(inner))
    outer.attach(MIMEApplication(b"%PDF", _subtype="pdf", Name="beslut.pdf"))
    outer.get_payload()[-1]["Content-Disposition"] = 'attachment; filename="beslut.pdf"'
    send(smtp_intake, outer.as_bytes())
    names = sorted(Attachment.objects.values_list("filename", flat=True))
    assert names == ["beslut.pdf", "vidarebefordrat.eml"]


@pytest.mark.parametrize("charset", ["utf-8", "cp1252"])
def test_raw_8bit_display_names_are_read_as_the_sender_meant(smtp_intake, charset):
    """Many clients put raw UTF-8 (RFC 6532), some old ones Windows-1252, in From: the mail is
    stored with the name readable, never refused or answered 451 over and over."""
    raw = ("From: Invånare Åsa Öberg <asa@example.org>\r\nTo: kontakt@solna.example.org\r\n"
           "Subject: Bygglov\r\nMessage-ID: <raw8-" + charset + "@example.org>\r\n"
           "Content-Type: text/plain; charset=" + charset + "\r\n\r\nHej, en fråga om bygglov.\r\n").encode(charset)
    send(smtp_intake, raw, sender="asa@example.org")
    ticket = only_ticket()
    assert ticket.contact.name == "Invånare Åsa Öberg"
    assert ticket.messages.get().sender.startswith("Invånare Åsa Öberg")
