"""The department workspace, the supervisor view and the directory in headless Chromium, against
a real daphne on the test database: scope, live updates, an answer reaching the resident."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from contactcentre.tickets.links import ticket_status_url
from tests.browser import CHROMIUM, launch, screenshot
from tests.factories import TicketFactory, UserFactory
from tests.procs import daphne_server, database_url_of_test_db

from .conftest import make_escalated

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


def sign_in(page, base: str, username: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(f"{base}{next_path}*")


def test_a_caseworker_works_an_escalation_and_the_supervisor_watches(departments):
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    from playwright.sync_api import expect, sync_playwright

    departments["bygglov"].opening_hours = {d: [["09:00", "11:30"], ["13:00", "15:00"]] for d in ("mon", "tue", "wed", "thu")}
    departments["bygglov"].description = "Bygglov, marklov, rivningslov och anmälningar."
    departments["bygglov"].save()
    agent = UserFactory(username="anna", first_name="Anna", last_name="Agent", role="agent")
    UserFactory(username="cecilia", first_name="Cecilia", last_name="Berg", role="caseworker",
                department=departments["bygglov"])
    UserFactory(username="sara", first_name="Sara", last_name="Ek", role="supervisor")
    ours = make_escalated(agent=agent, code="bygglov", subject="Bygglov för altan på Råsundavägen",
                          text="Hej! Behöver jag bygglov för en altan som är 60 cm hög?")
    make_escalated(agent=agent, code="bygglov", subject="Fråga om strandskydd vid Ulvsundasjön")
    theirs = make_escalated(agent=agent, code="miljotillsyn", subject="Buller från restaurangens fläkt")
    TicketFactory(subject="Parkeringstillstånd", status="open")
    fresh = TicketFactory(subject="Solceller på taket – behövs lov?", status="open")
    status_path = ticket_status_url(ours).removeprefix("http://127.0.0.1:8000")
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # The suite hashes with MD5 for speed; daphne runs with the real hashers.
    for user in get_user_model().objects.filter(username__in=["cecilia", "sara"]):
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "workspacesalt", iterations=1000)
        user.save(update_fields=["password"])
    token = Token.objects.create(user=agent).key
    env = {"DATABASE_URL": database_url_of_test_db(), "CONTACTCENTRE_ROUTER": "contactcentre.intake.ports.null_router"}

    with daphne_server(env=env) as port, sync_playwright() as pw:
        base = f"http://127.0.0.1:{port}"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=10)
        browser = launch(pw)
        cw = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE").new_page()
        sign_in(cw, base, "cecilia", "/department/")
        rows = cw.locator("#ws-list tbody tr")
        expect(rows).to_have_count(2)
        expect(cw.locator("#ws-list")).to_contain_text(ours.reference)
        expect(cw.locator("#ws-list")).not_to_contain_text(theirs.reference)
        expect(cw.locator("#ws-list")).not_to_contain_text("Buller")
        expect(cw.locator("body")).to_have_attribute("data-live", "up")

        # A new escalation appears without a reload (escalated through daphne: its live layer).
        assert api.post(f"/api/v1/tickets/{fresh.reference}/escalate/",
                        json={"department": "bygglov", "note": "Gäller detaljplan"}).status_code == 200
        expect(rows).to_have_count(3)
        expect(cw.locator("#ws-list")).to_contain_text("Solceller på taket")
        screenshot(cw, "department-workspace")

        # The other department's ticket does not exist for this caseworker.
        response = cw.goto(f"{base}/department/t/{theirs.reference}/")
        assert response is not None and response.status == 404

        cw.goto(f"{base}/department/t/{ours.reference}/")
        expect(cw.get_by_role("heading", level=1)).to_have_text("Bygglov för altan på Råsundavägen")
        cw.get_by_role("button", name="Ta ärendet").click()
        expect(cw.locator(".ws-flash")).to_contain_text("Du har tagit ärendet.")
        cw.get_by_label("Svar till invånaren").fill(
            "Hej! En altan som är lägre än 1,2 meter och ligger minst 4,5 meter från tomtgränsen behöver inte bygglov.")
        cw.get_by_role("button", name="Skicka svar").click()
        expect(cw.locator(".ws-flash")).to_contain_text("Svaret är skickat")
        expect(cw.locator(".ws-thread")).to_contain_text("behöver inte bygglov")
        screenshot(cw, "department-ticket")

        # The resident reads the answer on their own status page.
        resident = browser.new_context(viewport={"width": 390, "height": 800}, locale="sv-SE").new_page()
        resident.goto(base + status_path)
        expect(resident.locator(".thread")).to_contain_text("behöver inte bygglov")

        # The supervisor's counts follow events live.
        sv = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE").new_page()
        sign_in(sv, base, "sara", "/supervisor/")
        expect(sv.locator("body")).to_have_attribute("data-live", "up")
        web = sv.locator(".sv-table tr", has_text="Webbformulär").locator("td.num")
        before = int(web.inner_text())
        assert httpx.post(f"{base}/api/v1/intake/web/", json={
            "name": "Rut R", "email": "rut@example.org", "subject": "Tömning av kärl",
            "message": "Soptunnan har inte tömts.", "language": "sv"}, timeout=10).status_code == 201
        expect(web).to_have_text(str(before + 1), timeout=8000)
        screenshot(sv, "supervisor-overview")

        # The public directory, on a phone.
        resident.goto(f"{base}/kontakt/")
        expect(resident.get_by_role("heading", name="Bygglov")).to_be_visible()
        expect(resident.get_by_role("link", name="bygglov@solna.example.org")).to_be_visible()
        screenshot(resident, "directory-phone")
        desk = browser.new_context(viewport={"width": 1100, "height": 800}, locale="sv-SE").new_page()
        desk.goto(f"{base}/kontakt/")
        screenshot(desk, "directory")
        browser.close()
        api.close()
