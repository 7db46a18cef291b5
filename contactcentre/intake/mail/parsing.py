"""Raw RFC 822 bytes -> the facts the e-mail channel needs, with the standard ``email`` package.

Pure functions, no database: the SMTP listener, the HTTP pipe and the IMAP poller share them.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any

from contactcentre.intake.base import InboundAttachment
from contactcentre.tickets.html import sanitise_html

_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Lone surrogates (the email package's stand-ins for undecodable header bytes) cannot be encoded
# as UTF-8, so PostgreSQL would refuse the row; NUL is refused in any text column there too.
_UNSTORABLE = re.compile(r"[\ud800-\udfff]")
# Latin-1 labels are really windows-1252 in practice (as in every browser: WHATWG encoding spec).
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
                    "ascii": "cp1252", "windows-1252": "cp1252"}
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-subscribe", "list-owner")


@dataclass(frozen=True, slots=True)
class Bounce:
    """A delivery status notification (RFC 3464) about a mail we sent."""

    original_message_ids: tuple[str, ...]
    action: str  # "failed", "delayed", ...
    status: str  # e.g. "5.1.1"
    recipient: str
    diagnostic: str

    @property
    def is_failure(self) -> bool:
        return self.action in ("failed", "") and not self.status.startswith("2")


@dataclass(frozen=True, slots=True)
class ParsedMail:
    message_id: str  # "<...>" (synthesised from the bytes when the mail had none)
    subject: str
    from_name: str
    from_address: str
    to: tuple[str, ...]
    body_text: str
    body_html: str  # sanitised
    fold_at: int | None  # offset in body_text where quoted history / signature begins
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    attachments: tuple[InboundAttachment, ...]
    # Why no automatic reply may go to this sender (empty: replies allowed).
    no_auto_reply_reasons: tuple[str, ...]
    bounce: Bounce | None = None
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        # In-Reply-To first: it names the message answered; References are older history.
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


def clean_header_text(value: str) -> str:
    """One line, no control characters: safe to put back into a header we write."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", storable_text(value or ""))).strip()


def storable_text(value: str) -> str:
    """Text every database stores: undecodable bytes become U+FFFD, NUL is dropped."""
    return _UNSTORABLE.sub("\ufffd", _raw_bytes_decoded(value)).replace("\x00", "")


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")


def _raw_bytes_decoded(value: str) -> str:
    """Headers with raw 8-bit bytes (UTF-8 per RFC 6532, or a Windows charset from an old
    client, e.g. ``From: Invånare <a@example.org>``) reach us from the parser as surrogate
    escapes; turn them back into the text the sender meant."""
    if not _ESCAPED_BYTES.search(value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value
    for charset in ("utf-8", "cp1252"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


# --- structural limits, checked on the raw bytes before any parsing ---------------------------

_BOUNDARY_VALUE = re.compile(rb'\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"\r\n]{1,200}))')
_HEADER_END = re.compile(rb"\r?\n\r?\n")


# bytes.find runs in C; a case-insensitive or multi-line regex over 25 MB took ~10 times longer.
def _declared_boundaries(raw: bytes) -> Iterator[tuple[int, int, bytes]]:
    lowered = raw.lower()
    at = lowered.find(b"boundary")
    while at != -1:
        value = _BOUNDARY_VALUE.match(raw, at + 8)
        if value:
            yield at, 0, value.group(1) or value.group(2)
        at = lowered.find(b"boundary", at + 8)


def _delimiter_lines(raw: bytes) -> Iterator[tuple[int, int, bytes]]:
    at = 0 if raw.startswith(b"--") else raw.find(b"\n--")
    while at != -1:
        start = at if at == 0 and raw.startswith(b"--") else at + 1
        end = raw.find(b"\n", start, start + 212)
        line = raw[start + 2: end if end != -1 else start + 212]
        yield start, 1, line.split(b"\r", 1)[0].rstrip(b" \t")
        at = raw.find(b"\n--", start + 2)


@dataclass(frozen=True, slots=True)
class StructureProblem:
    reason: str  # a QuarantinedMail.Reason value
    detail: str


def mail_structure_problem(raw: bytes, *, max_parts: int, max_depth: int, max_headers: int) -> StructureProblem | None:
    """Count header fields, MIME parts and multipart nesting in one linear pass over the bytes.

    The standard parser's time grows with the number of parts and its recursion with the
    nesting (a few hundred levels raise RecursionError, after seconds of work), so a hostile or
    broken mail is recognised here, before that work starts. The scan follows the declared
    boundaries the way a MIME parser does: an opening delimiter of an outer boundary ends any
    inner multipart left open. It errs only towards counting more (a "boundary=" inside a text
    body counts as a level), and stops as soon as a limit is passed, so it is bounded too.
    """
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end else raw
    fields = sum(1 for line in head.splitlines() if line and line[:1] not in (b" ", b"\t"))
    if fields > max_headers:
        return StructureProblem("too_many_headers", f"{fields} header fields (limit {max_headers})")

    stack: list[bytes] = []
    parts = 0
    for _, kind, token in heapq.merge(_declared_boundaries(raw), _delimiter_lines(raw)):
        if kind == 0:
            stack.append(token)
            if len(stack) > max_depth:
                return StructureProblem("too_deep", f"multipart nesting deeper than {max_depth}")
            continue
        if token.endswith(b"--") and token[:-2] in stack:
            del stack[stack.index(token[:-2]):]  # closing delimiter: that multipart ends
        elif token in stack:
            del stack[stack.index(token) + 1:]  # a new part of this multipart ends inner ones
            parts += 1
            if parts > max_parts:
                return StructureProblem("too_many_parts", f"more than {max_parts} MIME parts")
    return None


def message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    found = _MSGID.findall(str(value))
    if not found and str(value).strip() and "@" in str(value):
        # Some mailers omit the angle brackets; normalise so lookups match stored ids.
        found = [f"<{str(value).strip().split()[0].strip('<>')}>"]
    return tuple(found)


def mail_parse(raw: bytes, *, envelope_from: str | None = None) -> ParsedMail:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    ids = message_ids(_header(msg, "Message-ID"))
    # Without a Message-ID the bytes are the identity: the same mail delivered twice is stored once.
    message_id = ids[0] if ids else f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@contactcentre.invalid>"
    from_name, from_address = _from(msg)
    body_text, body_html = _bodies(msg)
    bounce = _bounce(msg)
    return ParsedMail(
        message_id=message_id[:300],
        subject=clean_header_text(_header(msg, "Subject")),
        from_name=from_name,
        from_address=from_address,
        to=tuple(addr.lower() for _, addr in getaddresses([_header(msg, h) for h in ("To", "Cc", "Delivered-To")]) if addr),
        body_text=body_text,
        body_html=body_html,
        fold_at=fold_offset(body_text),
        in_reply_to=message_ids(_header(msg, "In-Reply-To")),
        references=message_ids(_header(msg, "References")),
        attachments=tuple(_attachments(msg)) if bounce is None else (),
        no_auto_reply_reasons=_no_auto_reply_reasons(msg, envelope_from, bounce),
        bounce=bounce,
        headers={k: clean_header_text(_header(msg, k))[:300] for k in ("Auto-Submitted", "Precedence", "List-Id")
                 if _header(msg, k)},
    )


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header must not lose the mail: use it unparsed
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    return str(value) if value is not None else ""


def _from(msg: EmailMessage) -> tuple[str, str]:
    try:
        header = msg["From"]
        addresses: tuple[Address, ...] = getattr(header, "addresses", ())
        if addresses:
            return clean_header_text(addresses[0].display_name)[:200], addresses[0].addr_spec.lower()[:254]
    except Exception:  # noqa: BLE001, S110 - a malformed From falls back to the lenient parser below
        pass
    name, address = parseaddr(_header(msg, "From"))
    return clean_header_text(name)[:200], address.lower()[:254]


# --- bodies ----------------------------------------------------------------------------------

def _decoded_text(part: Message) -> str:
    return storable_text(_decoded(part))


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    declared = (part.get_content_charset() or "").lower()
    for charset in (_CHARSET_ALIASES.get(declared, declared), "utf-8", "cp1252"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", errors="replace")


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    html_clean = sanitise_html(_decoded_text(html)) if html is not None else ""
    if plain is not None:
        text = _decoded_text(plain)
    elif html_clean:
        text = html_to_text(html_clean)
    else:
        text = ""
    return _normalise_newlines(text).strip("\n"), html_clean


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _TextExtractor(HTMLParser):
    _BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "table", "tr", "ul", "ol", "blockquote", "pre", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._href: list[str | None] = []
        self._quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._newline()
        elif tag in self._BLOCK:
            self._newline(2)
            if tag == "blockquote":
                self._quote_depth += 1
        elif tag == "li":
            self._newline()
            self.out.append("- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        if tag == "a":
            self._href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCK:
            if tag == "blockquote":
                self._quote_depth = max(0, self._quote_depth - 1)
            self._newline(2)
        elif tag == "a" and self._href:
            href = self._href.pop()
            if href and not href.startswith("mailto:"):
                self.out.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data)
        if self._quote_depth and text.strip():
            # Quoted history keeps its ">" so the fold finder recognises it in text form too.
            text = "> " * self._quote_depth + text.lstrip()
        self.out.append(text)

    def _newline(self, n: int = 1) -> None:
        self.out.append("\n" * n)


def html_to_text(html: str) -> str:
    """Readable text from sanitised HTML: paragraphs, line breaks, list bullets, link targets."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- folding quoted history and signatures ----------------------------------------------------

_REPLY_HEADER = re.compile(
    r"^(?:"
    r"On .{3,200}wrote:|Den .{3,200}skrev .{0,200}:|.{3,200} kirjoitti:|Am .{3,200}schrieb .{0,200}:"
    r"|-{2,}\s*(?:Original Message|Ursprungligt meddelande|Alkuperäinen viesti|Forwarded message|Vidarebefordrat meddelande)\s*-{2,}"
    r"|_{10,}"
    r")\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^(?:From|Från|Lähettäjä|Von):\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^(?:Sent|Skickat|Lähetetty|Gesendet|Date|Datum|To|Till|Subject|Ämne):\s", re.IGNORECASE)
_SIGNATURE = re.compile(r"^(?:-- ?|Skickat från min \w+.*|Sent from my \w+.*|Lähetetty \w+-laitteesta.*)$")


def fold_offset(text: str) -> int | None:
    """Where the resident's new words end: the start of quoted history or the signature.

    The full text stays in the record; the console shows ``text[:fold_at]`` and a toggle.
    Returns None when nothing is folded (or when folding would hide everything).
    """
    offset = 0
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        stripped = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        hit = (
            _REPLY_HEADER.match(stripped)
            or _SIGNATURE.match(line.rstrip("\n"))
            or (_OUTLOOK_FROM.match(stripped) and _OUTLOOK_NEXT.match(following))
            or (stripped.startswith(">") and all(not rest.strip() or rest.lstrip().startswith(">")
                                                  for rest in lines[index:]))
        )
        if hit:
            return offset if text[:offset].strip() else None
        offset += len(line)
    return None


# --- attachments ----------------------------------------------------------------------------

def _attachments(msg: EmailMessage) -> list[InboundAttachment]:
    body_ids = {id(p) for p in (msg.get_body(("plain",)), msg.get_body(("html",))) if p is not None}
    found: list[InboundAttachment] = []

    def visit(part: Message) -> None:
        if id(part) in body_ids:
            return
        if part.get_content_type() == "message/rfc822":
            found.append(_attachment(part))  # a forwarded mail stays whole; never descend into it
            return
        if part.is_multipart():
            for sub in part.get_payload():
                visit(sub)
            return
        # Named files, inline images and every non-text part; a stray unnamed text part that is
        # not the body (a list footer) is not a file the resident sent.
        if part.get_content_disposition() == "attachment" or part.get_filename() or part.get_content_maintype() != "text":
            found.append(_attachment(part))

    if msg.is_multipart():
        visit(msg)
    return found


def _attachment(part: Message) -> InboundAttachment:
    content_type = part.get_content_type()
    filename = clean_header_text(part.get_filename() or "")
    if content_type == "message/rfc822":
        inner = part.get_payload()
        inner_msg = inner[0] if isinstance(inner, list) and inner else inner
        content = inner_msg.as_bytes() if isinstance(inner_msg, Message) else b""
        return InboundAttachment(filename=filename or "vidarebefordrat.eml", content_type=content_type, content=content)
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes):
        content = str(part.get_payload() or "").encode()
    return InboundAttachment(filename=filename or "bilaga", content_type=content_type, content=content)


# --- loops and bounces ----------------------------------------------------------------------

def _no_auto_reply_reasons(msg: EmailMessage, envelope_from: str | None, bounce: Bounce | None) -> tuple[str, ...]:
    reasons: list[str] = []
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        reasons.append("auto-submitted")
    if _header(msg, "Precedence").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        reasons.append("precedence")
    if any(msg.get(h) is not None for h in _LIST_HEADERS):
        reasons.append("mailing-list")
    if envelope_from is not None and envelope_from.strip() in ("", "<>"):
        reasons.append("null-sender")
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond") or _header(msg, "X-Auto-Response-Suppress").lower() in ("all", "autoreply", "oof"):
        reasons.append("auto-responder")
    if bounce is not None:
        reasons.append("bounce")
    return tuple(reasons)


def _bounce(msg: EmailMessage) -> Bounce | None:
    if msg.get_content_type() != "multipart/report" or (msg.get_param("report-type") or "").lower() != "delivery-status":
        return None
    originals: list[str] = []
    action = status = recipient = diagnostic = ""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            action, status, recipient, diagnostic = _delivery_status(part)
        elif ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner_msg, Message):
                originals.extend(message_ids(_header(inner_msg, "Message-ID")))
        elif ctype in ("text/rfc822-headers", "message/global-headers"):
            headers = HeaderParser(policy=policy.compat32).parsestr(_decoded_text(part))
            originals.extend(message_ids(headers.get("Message-ID")))
    # Some MTAs quote nothing of the original; their In-Reply-To/References may still point at it.
    originals.extend(message_ids(_header(msg, "In-Reply-To")))
    originals.extend(message_ids(_header(msg, "References")))
    return Bounce(
        original_message_ids=tuple(dict.fromkeys(originals)),
        action=action.lower(),
        status=status,
        recipient=recipient,
        diagnostic=diagnostic[:1000],
    )


def _delivery_status(part: Message) -> tuple[str, str, str, str]:
    blocks = part.get_payload()
    fields: list[Message] = [b for b in blocks if isinstance(b, Message)] if isinstance(blocks, list) else []
    if not fields:
        text = _decoded_text(part)
        fields = [HeaderParser(policy=policy.compat32).parsestr(chunk) for chunk in re.split(r"\n\s*\n", text) if chunk.strip()]
    # The first block is per-message; the recipient blocks follow. The first failed recipient wins.
    recipients = fields[1:] or fields
    chosen = next((b for b in recipients if str(b.get("Action", "")).strip().lower() == "failed"), recipients[0] if recipients else None)
    if chosen is None:
        return "", "", "", ""
    recipient = str(chosen.get("Final-Recipient") or chosen.get("Original-Recipient") or "").split(";")[-1].strip()
    return (
        clean_header_text(str(chosen.get("Action", ""))),
        clean_header_text(str(chosen.get("Status", ""))),
        recipient[:254],
        clean_header_text(str(chosen.get("Diagnostic-Code", ""))),
    )
