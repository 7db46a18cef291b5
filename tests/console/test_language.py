"""Staff pages speak Swedish by default whatever the browser says; the language menu switches
them; residents' pages follow the browser."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


def test_staff_get_swedish_with_an_english_browser() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    client.force_login(UserFactory(role="agent"))
    response = client.get("/console/")
    assert response.status_code == 200
    assert lang_of(response) == "sv" and "Logga ut" in response.content.decode()


def test_staff_choose_english_with_the_language_menu() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    client.force_login(UserFactory(role="agent"))
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/console/"}).status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME in client.cookies
    response = client.get("/console/")
    assert lang_of(response) == "en" and "Sign out" in response.content.decode()


def test_residents_pages_follow_the_browser() -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").get("/kontakt/")
    assert response.status_code == 200
    assert lang_of(response) == "en"
