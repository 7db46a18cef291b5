"""The supervisor dashboard in headless Chromium: charts (SVG with text alternatives) and the
tables behind them, over a seeded quarter."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.browser import CHROMIUM, launch, screenshot

from .seed import seed

# The default survey and root causes (data migrations) are re-seeded for transactional tests by
# tests/conftest.py.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_dashboard_renders_charts(live_server, departments, supervisor, agent):
    assert CHROMIUM, "Debian chromium is not installed: run `make test` (it installs it)"
    from playwright.sync_api import expect, sync_playwright

    seed(weeks=12, per_day=7, actor=supervisor)
    assert Client().get("/supervisor/indikatorer/").status_code == 302  # signed-in supervisors only
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/supervisor/indikatorer/").status_code == 403
    client = Client()
    client.force_login(supervisor)
    session = client.cookies["sessionid"].value

    with sync_playwright() as pw:
        browser = launch(pw)
        context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="sv-SE")
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        page = context.new_page()
        page.goto(f"{live_server.url}/supervisor/indikatorer/")
        expect(page.get_by_role("heading", name="Indikatorer och kundupplevelse")).to_be_visible()
        charts = page.locator("svg.chart[role=img]")
        assert charts.count() >= 9
        # Every chart names itself and describes its numbers for screen readers.
        for i in range(charts.count()):
            labelled = charts.nth(i).get_attribute("aria-labelledby") or ""
            assert len(labelled.split()) == 2
        expect(page.locator("svg.chart title").first).to_have_text("Kontakter per vecka")
        assert page.locator("svg.chart rect").count() > 40
        expect(page.locator(".kpi").first).to_contain_text("Kontakter")
        expect(page.get_by_text("Kunskapsluckor")).to_be_visible()
        path = screenshot(page, "experience-dashboard")
        page.locator("details").first.locator("summary").click()
        expect(page.locator("details table").first).to_be_visible()
        browser.close()
    assert path.exists() and path.stat().st_size > 50_000


def test_public_survey_page_one_click_then_confirm(live_server):
    from playwright.sync_api import expect, sync_playwright

    from contactcentre.experience.models import Survey, SurveyInvitation, SurveyResponse
    from contactcentre.experience.services import survey_url
    from tests.factories import TicketFactory

    ticket = TicketFactory(channel="email", status="resolved", language="sv")
    invitation = SurveyInvitation.objects.create(ticket=ticket, survey=Survey.objects.get(), status="sent",
                                                 via="email", address="anna@example.org")
    link = survey_url(invitation, answer=4).replace("http://127.0.0.1:8000", live_server.url)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_context(viewport={"width": 800, "height": 900}, locale="sv-SE").new_page()
        page.goto(link)
        expect(page.get_by_role("radio", name="4").first).to_be_checked()
        # (that the GET alone records nothing is proven in test_surveys; no ORM inside Playwright's loop)
        page.get_by_text("Ja", exact=True).click()
        screenshot(page, "experience-survey")
        page.get_by_role("button", name="Skicka svar").click()
        expect(page.get_by_role("heading", name="Tack för ditt svar!")).to_be_visible()
        browser.close()
    answers = {a.question.code: a for a in SurveyResponse.objects.get().answers.select_related("question")}
    assert answers["bemotande"].value_int == 4 and answers["fick_svar"].value_bool is True
