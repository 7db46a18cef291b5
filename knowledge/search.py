"""Knowledge-base search, sharing the routing engine's index (stemming in sv/en/fi, å/ä/ö
folding, typo correction and the cross-language concept lexicon)."""

from __future__ import annotations

from dataclasses import dataclass

from routing.services import routing_model_current


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    title: str
    language: str
    department: str
    score: float


def article_search(*, query: str, language: str | None = None, limit: int = 10) -> list[SearchHit]:
    model = routing_model_current()
    hits = []
    for slug, score in model.search(query, language=language, limit=limit):
        article = model.articles[slug]
        hits.append(SearchHit(slug=slug, title=article.title, language=article.language, department=article.department, score=round(score, 3)))
    return hits
