"""Public, read-only knowledge-base pages for residents (no login)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from .models import Article
from .rendering import render_markdown
from .search import article_search

LANGUAGE_NAMES = {"sv": "Svenska", "en": "English", "fi": "Suomi"}
def article_index(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    language = request.GET.get("lang") if request.GET.get("lang") in LANGUAGE_NAMES else None
    published = Article.objects.filter(status=Article.Status.PUBLISHED).select_related("department")
    if query:
        hits = article_search(query=query, language=language, limit=20)
        by_slug = {a.slug: a for a in published.filter(slug__in=[h.slug for h in hits])}
        articles = [by_slug[h.slug] for h in hits if h.slug in by_slug]
    else:
        qs = published.order_by("department__name", "title")
        articles = list(qs.filter(language=language) if language else qs)
    return render(
        request,
        "knowledge/article_list.html",
        {"articles": articles, "query": query, "language": language, "languages": LANGUAGE_NAMES},
    )


def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = (
        Article.objects.filter(slug=slug, status=Article.Status.PUBLISHED).select_related("department").first()
    )
    if article is None:
        raise Http404("Artikeln finns inte")
    translations = Article.objects.filter(
        translation_group=article.translation_group, status=Article.Status.PUBLISHED
    ).exclude(pk=article.pk)
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "body_html": mark_safe(render_markdown(article.body)),  # noqa: S308 - sanitised by nh3
            "translations": translations,
            "languages": LANGUAGE_NAMES,
        },
    )
