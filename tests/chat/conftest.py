from __future__ import annotations

import pytest

from contactcentre.intake import ports


@pytest.fixture(autouse=True)
def chat_settings(settings):
    """Chat tests decide the clock and the router themselves."""
    settings.CHAT_ALWAYS_OPEN = True
    settings.CHAT_REQUIRE_AGENT_ONLINE = True
    settings.CHAT_RATE_SESSIONS_PER_HOUR = 50
    settings.CHAT_RATE_MESSAGES_PER_MINUTE = 50
    settings.CONTACTCENTRE_ROUTER = "contactcentre.intake.ports.null_router"
    # get_router() is cached; the router under test must be the one in settings.
    ports.get_router.cache_clear()
    yield settings
    ports.get_router.cache_clear()


def answering_router(request: ports.RoutingRequest) -> ports.RoutingOutcome:
    """A tiny router that knows one answer (opening hours of the recycling centre)."""
    if "återvinning" in request.text.lower():
        return ports.RoutingOutcome(
            action="answer",
            department="kundtjanst",
            article="atervinningscentral-oppettider",
            confidence=0.93,
            language="sv",
            answer_title="Återvinningscentralens öppettider",
            answer_text="Återvinningscentralen har öppet vardagar 10-19 och helger 9-16.",
        )
    return ports.null_router(request)


@pytest.fixture
def answering(chat_settings):
    chat_settings.CONTACTCENTRE_ROUTER = "tests.chat.conftest.answering_router"
    ports.get_router.cache_clear()
    return chat_settings
