"""Parsing is pure: raw bytes in, facts out, no database."""

from __future__ import annotations

import pytest

from contactcentre.intake.mail.outbound import subject_with_reference
from contactcentre.intake.mail.parsing import fold_offset, html_to_text, mail_parse, message_ids


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("Hej!\n\nOn Mon, 1 May 2026 at 10:00, Kontakt <k@x> wrote:\n> old", "Hej!"),
        ("Tack.\n\nDen 1 maj 2026 kl. 10:00 skrev Kontaktcenter <k@x>:\n> gammalt", "Tack."),
        ("Kiitos.\n\nMaanantaina Asiakaspalvelu kirjoitti:\n> vanha", "Kiitos."),
        ("Svar.\n\n-----Ursprungligt meddelande-----\nFrån: k@x", "Svar."),
        ("Svar.\n\nFrån: Kontaktcenter <k@x>\nSkickat: den 1 maj 2026\nÄmne: Fråga", "Svar."),
        ("Hälsningar\nAnna\n-- \nAnna Andersson\n070-1234567", "Hälsningar\nAnna"),
        ("Text\n\nSkickat från min iPhone", "Text"),
        ("Min text\n> citat\n> mer citat\n", "Min text"),
    ],
)
def test_quoted_history_and_signatures_fold(text, visible):
    offset = fold_offset(text)
    assert offset is not None and text[:offset].strip() == visible


def test_nothing_folds_in_plain_text_or_when_all_would_be_hidden():
    assert fold_offset("Hej\n> inline citat\nmitt svar efter") is None
    assert fold_offset("> bara citat") is None


def test_missing_message_id_is_derived_from_the_bytes():
    raw = b"From: a@example.org\r\nSubject: x\r\n\r\nHej\r\n"
    assert mail_parse(raw).message_id == mail_parse(raw).message_id
    assert mail_parse(raw).message_id != mail_parse(raw + b"!").message_id


def test_message_ids_are_normalised():
    assert message_ids("<a@b> <c@d>\r\n <e@f>") == ("<a@b>", "<c@d>", "<e@f>")
    assert message_ids("a@b") == ("<a@b>",)


def test_thread_ids_put_in_reply_to_first():
    raw = b"From: a@x\r\nIn-Reply-To: <p@x>\r\nReferences: <r1@x> <r2@x> <p@x>\r\n\r\nHej"
    assert mail_parse(raw).thread_ids == ("<p@x>", "<r2@x>", "<r1@x>")


@pytest.mark.parametrize(
    ("header", "reason"),
    [("Auto-Submitted: auto-generated", "auto-submitted"), ("Precedence: junk", "precedence"),
     ("Precedence: list", "precedence"), ("List-Post: <mailto:l@x>", "mailing-list"),
     ("X-Autoreply: yes", "auto-responder")],
)
def test_robots_are_recognised(header, reason):
    raw = f"From: a@x\r\n{header}\r\n\r\nHej".encode()
    assert reason in mail_parse(raw, envelope_from="a@x").no_auto_reply_reasons


def test_auto_submitted_no_is_a_person():
    raw = b"From: a@x\r\nAuto-Submitted: no\r\n\r\nHej"
    assert mail_parse(raw, envelope_from="a@x").no_auto_reply_reasons == ()
    assert mail_parse(raw, envelope_from="").no_auto_reply_reasons == ("null-sender",)


def test_html_to_text_keeps_structure():
    assert html_to_text("<p>Ett</p><p>Två<br>Tre</p><blockquote><p>citat</p></blockquote>") == "Ett\n\nTvå\nTre\n\n> citat"


def test_dsn_with_only_headers_of_the_original():
    raw = (b"From: MAILER-DAEMON@x\r\nMessage-ID: <d@x>\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=Q\r\n\r\n"
           b"--Q\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
           b"--Q\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n"
           b"Final-Recipient: rfc822;bo@example.org\r\nAction: failed\r\nStatus: 5.2.2\r\n"
           b"Diagnostic-Code: smtp; 552 mailbox full\r\n\r\n"
           b"--Q\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <ours@solna.example.org>\r\nSubject: x\r\n"
           b"--Q--\r\n")
    bounce = mail_parse(raw, envelope_from="").bounce
    assert bounce is not None and bounce.is_failure
    assert bounce.original_message_ids == ("<ours@solna.example.org>",)
    assert (bounce.status, bounce.recipient) == ("5.2.2", "bo@example.org")
    assert "mailbox full" in bounce.diagnostic


def test_subject_with_reference_is_one_clean_line():
    assert subject_with_reference("SV: Re: Fråga [SOL-2026-000001]", "SOL-2026-000001") == "Re: Fråga [SOL-2026-000001]"
    assert subject_with_reference("a\r\nBcc: x@y", "SOL-2026-000002") == "Re: a Bcc: x@y [SOL-2026-000002]"


# --- structural limits on the raw bytes ---------------------------------------------------------

def _limits(raw: bytes, **overrides: int):
    from contactcentre.intake.mail.parsing import mail_structure_problem

    return mail_structure_problem(raw, **({"max_parts": 10, "max_depth": 3, "max_headers": 20} | overrides))


def _multipart(boundary: str, *parts: bytes, declare: str = "boundary") -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    head = f'Content-Type: multipart/mixed; {declare}="{boundary}"\r\n\r\n'.encode()
    return head + body + b"--" + boundary.encode() + b"--\r\n"


TEXT = b"Content-Type: text/plain\r\n\r\nhej"


def test_siblings_are_parts_not_depth():
    inner = [_multipart(f"in{i}", TEXT) for i in range(3)]
    assert _limits(b"Subject: x\r\n" + _multipart("out", *inner)) is None  # depth 2, 6 parts


def test_nesting_over_the_limit_is_found_even_with_an_uppercase_parameter():
    raw = _multipart("a", _multipart("b", _multipart("c", _multipart("d", TEXT), declare="BOUNDARY")))
    problem = _limits(b"Subject: x\r\n" + raw)
    assert problem is not None and problem.reason == "too_deep"


def test_an_outer_delimiter_ends_an_unclosed_inner_multipart():
    # The inner multipart is never closed; the outer boundary's next part ends it (as parsers do).
    unclosed = b'Content-Type: multipart/mixed; boundary="in"\r\n\r\n--in\r\n' + TEXT + b"\r\n"
    raw = b'Subject: x\r\nContent-Type: multipart/mixed; boundary="out"\r\n\r\n'
    raw += b"".join(b"--out\r\n" + unclosed for _ in range(4)) + b"--out--\r\n"
    assert _limits(raw) is None


def test_parts_and_headers_over_their_limits():
    assert _limits(b"Subject: x\r\n" + _multipart("p", *[TEXT] * 11)).reason == "too_many_parts"
    raw = b"".join(b"X-H%d: v\r\n" % i for i in range(21)) + b"\r\nbody\r\n"
    assert _limits(raw).reason == "too_many_headers"
    folded = b"Subject: x\r\n" + b"".join(b"X-Long: a\r\n b\r\n\tc\r\n" for _ in range(6)) + b"\r\nbody"
    assert _limits(folded) is None  # continuation lines are not fields


def test_a_dash_line_in_a_text_body_is_not_a_part():
    raw = b"Subject: x\r\n\r\n--\r\n-- \r\nAnna\r\n" + b"--not a boundary\r\n" * 50
    assert _limits(raw) is None
