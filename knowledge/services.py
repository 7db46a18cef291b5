"""Writes to the knowledge base. Every change goes through ``article_save`` so that each save
leaves a version row and the routing index is told to rebuild after commit."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from contactcentre.tickets.models import Department
from routing.dataset import FormatError, read_articles, read_department_extras, read_departments
from routing.versioning import routing_model_invalidate

from .models import Article, ArticleUsage, ArticleVersion

_UNSET: Any = object()


@transaction.atomic
def article_save(
    *,
    slug: str,
    title: str,
    body: str,
    language: str,
    department: Department,
    tags: list[str] | None = None,
    example_questions: list[str] | None = None,
    status: str = _UNSET,
    owner: Any = _UNSET,
    review_by: date | None = _UNSET,
    translation_group: uuid.UUID | None = None,
    actor: Any = None,
    note: str = "",
) -> tuple[Article, bool]:
    """Create or update the article with this slug; returns (article, changed).

    Saving identical content is a no-op (no new version), so re-imports are idempotent.
    """
    article = Article.objects.select_for_update().filter(slug=slug).first()
    created = article is None
    if article is None:
        article = Article(slug=slug)
    values: dict[str, Any] = {
        "title": title,
        "body": body,
        "language": language,
        "department_id": department.pk,
        "tags": list(tags or []),
        "example_questions": list(example_questions or []),
    }
    if status is not _UNSET:
        values["status"] = status
    if owner is not _UNSET:
        values["owner"] = owner
    if review_by is not _UNSET:
        values["review_by"] = review_by
    if translation_group is not None:
        values["translation_group"] = translation_group
    changed = created or any(getattr(article, key) != value for key, value in values.items())
    if not changed:
        return article, False
    for key, value in values.items():
        setattr(article, key, value)
    article.version += 1
    article.updated_at = timezone.now()
    article.save()
    ArticleVersion.objects.create(
        article=article,
        version=article.version,
        title=article.title,
        body=article.body,
        language=article.language,
        department_code=department.code,
        tags=article.tags,
        example_questions=article.example_questions,
        status=article.status,
        saved_by=actor,
        note=note,
    )
    transaction.on_commit(routing_model_invalidate)
    return article, True


def article_usage_record(*, slug: str, event: str, count: int = 1) -> None:
    """Count an event (shown, suggested, used_in_reply, auto_answered, helpful_yes/no)."""
    article_usage_record_many(slugs=[slug], event=event, count=count)


def article_usage_record_many(*, slugs: Iterable[str], event: str, count: int = 1) -> None:
    """Count one event for several articles in one statement (the hot path: every intake records
    its suggestions). F() so that concurrent counts are never lost to a read-modify-write race;
    the counter rows are created on first use."""
    if event not in ArticleUsage.Event.values:
        raise ValueError(f"unknown article usage event {event!r}")
    wanted = sorted(set(slugs))
    if not wanted:
        return
    changes = {event: F(event) + count, "updated_at": timezone.now()}
    updated = ArticleUsage.objects.filter(article__slug__in=wanted).update(**changes)
    if updated < len(wanted):
        ids = set(Article.objects.filter(slug__in=wanted).values_list("pk", flat=True))
        missing = ids - set(ArticleUsage.objects.filter(article_id__in=ids).values_list("article_id", flat=True))
        if missing:
            ArticleUsage.objects.bulk_create([ArticleUsage(article_id=pk) for pk in missing], ignore_conflicts=True)
            ArticleUsage.objects.filter(article_id__in=missing).update(**changes)


@dataclass(frozen=True, slots=True)
class ImportResult:
    departments_created: int
    departments_updated: int
    articles_created: int
    articles_updated: int
    articles_unchanged: int


def knowledge_import(*, directory: Path, publish: bool = True, actor: Any = None) -> ImportResult:
    """Import DIR/departments.yaml and DIR/knowledge/*.md.

    Everything is parsed and validated before the first write, and the writes share one
    transaction, so a malformed file leaves the database exactly as it was.
    """
    departments_file = directory / "departments.yaml"
    if not departments_file.exists():
        raise FormatError(departments_file, 1, "file not found")
    departments = read_departments(departments_file)
    extras = read_department_extras(departments_file)
    known = {d.code for d in departments} | set(Department.objects.values_list("code", flat=True))
    articles = read_articles(directory, known)
    groups = _translation_groups(directory)

    counts = {"dc": 0, "du": 0, "ac": 0, "au": 0, "an": 0}
    with transaction.atomic():
        by_code: dict[str, Department] = {}
        for dept in departments:
            obj, created = Department.objects.update_or_create(
                code=dept.code,
                defaults={
                    "name": dept.name,
                    "description": dept.description,
                    "email": extras.get(dept.code, {}).get("email", ""),
                    "phone": extras.get(dept.code, {}).get("phone", ""),
                },
            )
            by_code[dept.code] = obj
            counts["dc" if created else "du"] += 1
        for code in known - set(by_code):
            by_code[code] = Department.objects.get(code=code)
        existing = set(Article.objects.filter(slug__in=[a.slug for a in articles]).values_list("slug", flat=True))
        for article in articles:
            _obj, changed = article_save(
                slug=article.slug,
                title=article.title,
                body=article.body,
                language=article.language,
                department=by_code[article.department],
                tags=list(article.tags),
                example_questions=list(article.example_questions),
                status=Article.Status.PUBLISHED if publish else _UNSET,
                translation_group=groups.get(article.slug),
                actor=actor,
                note="import",
            )
            if article.slug not in existing:
                counts["ac"] += 1
            else:
                counts["au" if changed else "an"] += 1
        transaction.on_commit(routing_model_invalidate)
    return ImportResult(counts["dc"], counts["du"], counts["ac"], counts["au"], counts["an"])


def _translation_groups(directory: Path) -> dict[str, uuid.UUID]:
    """Optional ``translation_of: <slug>`` in front matter links translations into one group."""
    links: dict[str, str] = {}
    for path in sorted((directory / "knowledge").glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
        if isinstance(meta, dict) and meta.get("translation_of"):
            links[str(meta["slug"])] = str(meta["translation_of"])
    groups: dict[str, uuid.UUID] = {}
    for slug, target in links.items():
        root = target
        while root in links and links[root] != slug:
            root = links[root]
        group = uuid.uuid5(uuid.NAMESPACE_URL, f"contactcentre:article:{root}")
        groups[slug] = groups[root] = group
    return groups


def knowledge_export(*, directory: Path, include_drafts: bool = False) -> int:
    """Write departments.yaml and knowledge/*.md in the import format. Returns articles written."""
    (directory / "knowledge").mkdir(parents=True, exist_ok=True)
    departments = [
        {
            "code": d.code,
            "name": d.name,
            "description": d.description,
            "email": d.email,
            "phone": d.phone,
        }
        for d in Department.objects.order_by("code")
    ]
    (directory / "departments.yaml").write_text(
        yaml.safe_dump(departments, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )
    qs = Article.objects.select_related("department").order_by("slug")
    if not include_drafts:
        qs = qs.filter(status=Article.Status.PUBLISHED)
    articles = list(qs)
    group_first: dict[uuid.UUID, str] = {}
    group_size: dict[uuid.UUID, int] = {}
    # The Swedish original is the root of a translation group; the others point at it.
    for article in sorted(articles, key=lambda a: (a.language != "sv", a.slug)):
        group_first.setdefault(article.translation_group, article.slug)
        group_size[article.translation_group] = group_size.get(article.translation_group, 0) + 1
    for article in articles:
        meta: dict[str, Any] = {
            "slug": article.slug,
            "title": article.title,
            "language": article.language,
            "department": article.department.code,
            "tags": list(article.tags),
        }
        if article.example_questions:
            meta["example_questions"] = list(article.example_questions)
        first = group_first[article.translation_group]
        if group_size[article.translation_group] > 1 and first != article.slug:
            meta["translation_of"] = first
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)
        (directory / "knowledge" / f"{article.slug}.md").write_text(
            f"---\n{front}---\n\n{article.body.strip()}\n", encoding="utf-8"
        )
    return len(articles)
