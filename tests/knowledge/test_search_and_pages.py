from __future__ import annotations

import pytest
from django.test import Client

from knowledge.models import Article
from knowledge.search import article_search
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.urls("tests.knowledge.urls")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("attefallshus", "attefallsatgarder"),
        ("atefalshus", "attefallsatgarder"),  # typo
        ("sophamtning villa", "sophamtning-villa"),  # å/ä/ö missing
        ("plogningen", "snorojning-demo"),  # inflection
        ("old sofa", "atervinningscentral"),  # English query, Swedish article
    ],
)
def test_article_search(demo_kb, query: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert article_search(query=query)[0].slug == expected


def test_search_language_filter(demo_kb) -> None:  # type: ignore[no-untyped-def]
    hits = article_search(query="suomeksi asiointi", language="fi")
    assert hits and all(h.language == "fi" for h in hits)


def test_search_api_requires_staff(demo_kb, api) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/api/v1/knowledge/search/", {"q": "kamin"}).status_code in (401, 403)


def test_search_api(demo_kb, agent_api) -> None:  # type: ignore[no-untyped-def]
    response = agent_api.get("/api/v1/knowledge/search/", {"q": "braskamin", "lang": "sv"})
    assert response.status_code == 200
    assert response.json()[0]["slug"] == "eldstad-anmalan"


def test_article_list_and_detail_api(demo_kb, agent_api) -> None:  # type: ignore[no-untyped-def]
    listing = agent_api.get("/api/v1/knowledge/articles/", {"department": "avfall"}).json()
    assert {a["department"] for a in listing} == {"avfall"} and len(listing) >= 3
    detail = agent_api.get("/api/v1/knowledge/articles/tobak-tillstand/").json()
    assert detail["title"] == "Sälja tobak och e-cigaretter" and "försäljningstillstånd" in detail["body"]


def test_public_pages_render_sanitised_markdown(demo_kb) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    index = client.get("/kunskap/")
    assert index.status_code == 200 and "Attefallshus och attefallstillbyggnad" in index.content.decode()
    page = client.get("/kunskap/attefallsatgarder/")
    html = page.content.decode()
    assert page.status_code == 200 and "<strong>startbesked</strong>" in html and 'lang="sv"' in html
    article = Article.objects.get(slug="attefallsatgarder")
    article.body += "\n\n<script>alert(1)</script>"
    article.save()
    assert "<script>alert" not in client.get("/kunskap/attefallsatgarder/").content.decode()


def test_public_search_and_drafts_hidden(demo_kb) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert "Anmäl värmepump" in client.get("/kunskap/", {"q": "bergvärme"}).content.decode()
    Article.objects.filter(slug="tobak-tillstand").update(status=Article.Status.DRAFT)
    assert client.get("/kunskap/tobak-tillstand/").status_code == 404


def test_staff_only_for_preview(demo_kb) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory(username="x", role="agent")
    assert client_for(user).post("/api/v1/routing/preview/", {"text": "hej"}, format="json").status_code == 200
