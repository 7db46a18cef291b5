"""The widget in headless Chromium against a real daphne: a resident chats from the demo page,
an agent accepts and answers over the REST API, a reload resumes the conversation."""

from __future__ import annotations

import httpx
import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from tests.browser import CHROMIUM, launch
from tests.factories import UserFactory
from tests.procs import daphne_server, database_url_of_test_db

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_resident_chats_from_the_widget():
    # No skip: `make test` installs Debian's chromium when it is missing.
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    from playwright.sync_api import expect, sync_playwright

    agent = UserFactory(username="anna", first_name="Anna", role="agent")
    token = Token.objects.create(user=agent).key
    env = {
        "DATABASE_URL": database_url_of_test_db(),
        "CONTACTCENTRE_ROUTER": "contactcentre.intake.ports.null_router",
        "CHAT_ALWAYS_OPEN": "true",
        # Presence is per process on the embedded cache; the agent here works over REST only.
        "CHAT_REQUIRE_AGENT_ONLINE": "false",
    }
    shots = settings.VAR_DIR / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with daphne_server(env=env) as port, sync_playwright() as pw:
        base = f"http://127.0.0.1:{port}"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=10)
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(f"{base}/chat/demo/")

        page.get_by_role("button", name="Chatta med oss").click()
        box = page.get_by_label("Skriv ditt meddelande")
        expect(box).to_be_focused()
        box.fill("Hur lång tid tar ett bygglov?")
        box.press("Enter")
        log = page.get_by_role("log")
        expect(log.locator("li.msg.resident:not(.pending)")).to_have_count(1)
        page.get_by_role("button", name="Prata med en människa").click()
        expect(log).to_contain_text("Du står i kö")

        chats = api.get("/api/v1/chats/").json()
        assert len(chats) == 1
        assert api.post(f"/api/v1/chats/{chats[0]['session_id']}/accept/").status_code == 200
        expect(log).to_contain_text("Anna har anslutit till chatten.")
        reply = api.post(f"/api/v1/tickets/{chats[0]['ticket']}/reply/",
                         json={"body": "Oftast fyra veckor. <b>Inte</b> HTML."})
        assert reply.status_code == 201
        answer = log.locator("li.msg.agent")
        expect(answer).to_contain_text("Oftast fyra veckor. <b>Inte</b> HTML.")
        assert answer.locator("b").count() == 0  # shown as text, never parsed
        page.screenshot(path=str(shots / "chat-widget.png"))

        page.reload()  # the conversation survives a reload, in the same tab
        expect(page.get_by_role("log").locator("li.msg")).to_have_count(2)
        expect(page.get_by_role("dialog")).to_contain_text("Oftast fyra veckor.")

        phone = browser.new_page(viewport={"width": 390, "height": 760})
        phone.goto(f"{base}/chat/demo/?lang=fi")
        phone.get_by_role("button", name="Chattaa kanssamme").click()
        expect(phone.get_by_label("Kirjoita viestisi")).to_be_visible()
        phone.keyboard.press("Escape")
        expect(phone.get_by_role("button", name="Chattaa kanssamme")).to_be_focused()
        phone.screenshot(path=str(shots / "chat-widget-phone.png"))
        browser.close()
        api.close()
