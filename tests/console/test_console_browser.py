"""The agent console in headless Chromium against a real daphne: live queue, claims seen by a
colleague, a chat answered from the console, and a reconnect that catches up."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect, sync_playwright

from contactcentre.intake.base import InboundMessage
from contactcentre.intake.services import intake_receive
from tests.browser import CHROMIUM, launch, screenshot
from tests.factories import DepartmentFactory, UserFactory, contact_with_email

from .conftest import INTAKE_SECRET, PASSWORD, daphne_on, server_env, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.django_db(transaction=True)]

LIVE_MS = 2500  # "within a second" plus head-room for a loaded CI machine


@pytest.fixture
def staff(db):
    for code, name in [("bygglov", "Bygglov"), ("miljotillsyn", "Miljötillsyn"), ("gata-park", "Gata och park")]:
        DepartmentFactory(code=code, name=name)
    users = {
        "anna": UserFactory(username="anna", first_name="Anna", last_name="Berg", role="agent"),
        "bertil": UserFactory(username="bertil", first_name="Bertil", last_name="Ek", role="agent"),
    }
    for user in users.values():
        # The server checks with its own hashers (the suite's fast MD5 is not among them).
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "consolesalt", iterations=1000)
        user.save(update_fields=["password"])
    return users


def raw_mail(subject: str, body: str, sender: str = "karin.lind@example.org") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Karin Lind <{sender}>"
    msg["To"] = "kontakt@solna.example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{time.time_ns()}@example.org>"
    msg.set_content(body)
    return msg.as_bytes()


def test_two_agents_see_a_new_mail_and_a_claim_live(staff, null_router, console_server):
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    base = console_server
    contact = contact_with_email("karin.lind@example.org", name="Karin Lind")
    intake_receive(InboundMessage(channel="web", body_text="Hur söker jag parkeringstillstånd?",
                                  subject="Parkeringstillstånd", sender_email="karin.lind@example.org"))
    assert contact.tickets.count() == 1
    with sync_playwright() as pw:
        browser = launch(pw)
        anna = sign_in(browser, base, "anna")
        bertil = sign_in(browser, base, "bertil")

        started = time.monotonic()
        response = httpx.post(
            f"{base}/api/v1/intake/email/",
            content=raw_mail("Bygglov för altan", "Hej!\nBehöver jag bygglov för en altan på 20 m²?\n\nMvh Karin"),
            headers={"X-Email-Intake-Secret": INTAKE_SECRET, "Content-Type": "message/rfc822"}, timeout=10,
        )
        assert response.status_code == 201, response.text
        for page in (anna, bertil):
            row = page.locator("#queue-body tr", has_text="Bygglov för altan")
            expect(row).to_be_visible(timeout=LIVE_MS)
            expect(row.locator(".ch-email")).to_have_count(1)
            expect(row).to_contain_text("Karin Lind")
        elapsed = time.monotonic() - started
        assert elapsed < LIVE_MS / 1000
        # The rail lists the agents online, each console its own person included (from the
        # socket's hello, whoever connected first).
        for page in (anna, bertil):
            expect(page.locator('#agents [data-field="agents"]')).to_contain_text("Anna Berg", timeout=LIVE_MS)
            expect(page.locator('#agents [data-field="agents"]')).to_contain_text("Bertil Ek", timeout=LIVE_MS)
        screenshot(anna, "console-queue")

        # Keyboard: j selects the first row, Enter opens it.
        anna.keyboard.press("j")
        expect(anna.locator("#queue-body tr.selected")).to_contain_text("Bygglov för altan")
        anna.keyboard.press("Enter")
        anna.wait_for_url("**/console/t/**")
        expect(anna.locator("body")).to_have_attribute("data-live", "up")
        expect(anna.get_by_role("heading", level=1)).to_contain_text("Bygglov för altan")
        expect(anna.locator("#thread")).to_contain_text("Behöver jag bygglov")
        expect(anna.locator(".earlier")).to_contain_text("Parkeringstillstånd")  # the contact's earlier ticket

        anna.get_by_role("button", name="Ta ärendet").click()
        expect(anna.locator('[data-field="assignee"]')).to_have_text("Anna Berg", timeout=LIVE_MS)
        # Bertil's queue shows the claim without a reload.
        row = bertil.locator("#queue-body tr", has_text="Bygglov för altan")
        expect(row.locator(".c-assignee")).to_have_text("Anna Berg", timeout=LIVE_MS)
        expect(row.locator(".status")).to_have_text("Öppen")

        # Bertil opens it: he is told Anna holds it and his reply box is locked.
        row.locator("a.ref").click()
        expect(bertil.locator('[data-field="held"]')).to_contain_text("Anna Berg handlägger ärendet")
        expect(bertil.locator("#reply-body")).to_be_disabled()

        # Anna writes an internal note and answers; the thread shows both, styled apart.
        anna.keyboard.press("n")
        expect(anna.locator("#reply-body")).to_be_focused()
        anna.locator("#reply-body").fill("Kollat detaljplanen: altanen är bygglovsfri.")
        anna.get_by_role("button", name="Skicka").click()
        expect(anna.locator("#thread .msg-note")).to_contain_text("bygglovsfri", timeout=LIVE_MS)
        anna.get_by_role("tab", name="Svara").click()
        anna.locator("#reply-body").fill("Hej Karin! En altan under 1,8 m höjd behöver inget bygglov.")
        anna.get_by_role("button", name="Skicka").click()
        expect(anna.locator("#thread .msg-outbound")).to_contain_text("inget bygglov", timeout=LIVE_MS)
        expect(bertil.locator("#thread .msg-outbound")).to_contain_text("inget bygglov", timeout=LIVE_MS)
        screenshot(anna, "console-ticket")
        browser.close()


def test_an_agent_answers_a_chat_from_the_console(staff, console_server):
    base = console_server
    with sync_playwright() as pw:
        browser = launch(pw)
        anna = sign_in(browser, base, "anna")

        resident = browser.new_context(viewport={"width": 420, "height": 760}).new_page()
        resident.goto(f"{base}/chat/demo/")
        resident.get_by_role("button", name="Chatta med oss").click()
        box = resident.get_by_label("Skriv ditt meddelande")
        box.fill("När töms soporna på Råsundavägen?")
        box.press("Enter")
        resident.get_by_role("button", name="Prata med en människa").click()
        log = resident.get_by_role("log")
        expect(log).to_contain_text("Du står i kö")

        waiting = anna.locator("#chats [data-field=waiting] li")
        expect(waiting).to_have_count(1, timeout=LIVE_MS)
        waiting.get_by_role("button").click()
        expect(log).to_contain_text("Anna har anslutit till chatten.", timeout=LIVE_MS)
        anna.locator("#chats [data-field=mine] a").click()
        anna.wait_for_url("**/console/t/**")
        expect(anna.locator("#thread")).to_contain_text("Råsundavägen")
        expect(anna.locator("body")).to_have_attribute("data-live", "up")

        # Typing shows on the resident's side, then the reply arrives in the widget.
        anna.locator("#reply-body").press_sequentially("Hej", delay=20)
        expect(resident.locator("body")).to_contain_text("skriver", timeout=LIVE_MS)
        anna.locator("#reply-body").fill("Hej! Tömning sker varannan tisdag.")
        anna.get_by_role("button", name="Skicka").click()
        expect(log.locator("li.msg.agent")).to_contain_text("varannan tisdag", timeout=LIVE_MS)
        expect(anna.locator("#thread .msg-outbound")).to_contain_text("varannan tisdag", timeout=LIVE_MS)
        browser.close()


def test_the_console_reconnects_and_catches_up(staff, null_router):
    from tests.procs import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_env()
    with sync_playwright() as pw:
        browser = launch(pw)
        with daphne_on(port, env):
            page = sign_in(browser, base, "bertil")
        # The server is gone: the banner says so, the page stays.
        banner = page.locator("#live-banner")
        expect(banner).to_be_visible(timeout=8000)
        expect(page.locator("body")).to_have_attribute("data-live", "down")
        # Something happens while the console is cut off ...
        # (Playwright's loop runs in this thread: the ORM call goes to another.)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(intake_receive, InboundMessage(
                channel="web", subject="Trasig gatlykta på Solnavägen", body_text="Lyktan vid busshållplatsen är släckt.",
                sender_name="Omar Ali", sender_email="omar@example.org")).result()
        with daphne_on(port, env):
            # ... and shows up once the link is back, without a reload.
            expect(banner).to_be_hidden(timeout=15000)
            expect(page.locator("#queue-body tr", has_text="Trasig gatlykta")).to_be_visible(timeout=LIVE_MS)
            assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        browser.close()


def test_a_steady_stream_of_events_refreshes_the_queue_about_once_a_second(staff, console_server):
    """Ten events a second for three seconds: the queue neither starves (a debounce never fires
    while events keep coming) nor refetches per event; it refetches about once a second."""
    with sync_playwright() as pw:
        browser = launch(pw)
        page = sign_in(browser, console_server, "anna")
        fetches: list[float] = []
        page.on("request", lambda r: "partial=rows" in r.url and fetches.append(time.monotonic()))
        started = time.monotonic()
        page.evaluate("""async () => {
            for (let i = 0; i < 30; i++) {
                document.dispatchEvent(new CustomEvent("cc:ticket.updated", {detail: {id: i}}));
                await new Promise(r => setTimeout(r, 100));
            }
        }""")
        page.wait_for_timeout(1500)  # the trailing refetch after the last event
        during = [t for t in fetches if t - started < 3.0]
        assert during and during[0] - started < 1.0, fetches  # the first within a second, mid-stream
        assert 2 <= len(fetches) <= 5, [round(t - started, 2) for t in fetches]
        gaps = [b - a for a, b in zip(fetches, fetches[1:], strict=False)]
        assert all(g >= 0.9 for g in gaps), gaps
        browser.close()
