from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contactcentre.tickets.models import Department
from knowledge.models import Article, ArticleUsage, ArticleVersion
from knowledge.services import (
    article_save,
    article_usage_record,
    knowledge_export,
    knowledge_import,
)

from .conftest import DEMO


def test_import_creates_departments_and_published_articles(demo_kb) -> None:  # type: ignore[no-untyped-def]
    assert demo_kb.departments_created == 10
    assert demo_kb.articles_created == len(list((DEMO / "knowledge").glob("*.md")))
    article = Article.objects.get(slug="attefallsatgarder")
    assert article.status == Article.Status.PUBLISHED
    assert article.department.code == "bygglov"
    assert "attefallshus" in article.tags
    assert article.example_questions == ["Hur stort får ett attefallshus vara?"]
    assert Department.objects.get(code="bygglov").email == "bygglov@solna.example.org"
    assert ArticleVersion.objects.filter(article=article).count() == 1


def test_reimport_updates_in_place_and_versions_only_changes(demo_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "kb"
    shutil.copytree(DEMO, copy)
    path = copy / "knowledge" / "attefallsatgarder.md"
    path.write_text(path.read_text(encoding="utf-8").replace("högst 30 kvadratmeter", "högst 31 kvadratmeter"), encoding="utf-8")
    result = knowledge_import(directory=copy)
    assert (result.articles_created, result.articles_updated) == (0, 1)
    article = Article.objects.get(slug="attefallsatgarder")
    assert "31 kvadratmeter" in article.body and article.version == 2
    assert list(article.versions.values_list("version", flat=True)) == [2, 1]
    assert Article.objects.count() == result.articles_unchanged + 1


def test_malformed_file_is_reported_and_nothing_is_imported(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "kb"
    shutil.copytree(DEMO, copy)
    (copy / "knowledge" / "zz-broken.md").write_text(
        "---\nslug: zz-broken\ntitle: Trasig\nlanguage: de\ndepartment: bygglov\ntags: []\n---\n\nText.\n", encoding="utf-8"
    )
    with pytest.raises(CommandError) as excinfo:
        call_command("import_knowledge", str(copy))
    message = str(excinfo.value)
    assert "zz-broken.md:4" in message and "language" in message
    assert Article.objects.count() == 0 and Department.objects.count() == 0


def test_unknown_department_is_reported_with_its_line(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "kb"
    shutil.copytree(DEMO, copy)
    (copy / "knowledge" / "bad.md").write_text(
        "---\nslug: bad\ntitle: X\nlanguage: sv\ndepartment: nope\n---\n\nText.\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match=r"bad\.md:5: unknown department"):
        call_command("import_knowledge", str(copy))
    assert not Article.objects.exists()


def test_export_round_trip(demo_kb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "export"
    assert knowledge_export(directory=out) == Article.objects.count()
    before = {a.slug: (a.title, a.body, a.language, a.department_id, a.tags, a.example_questions) for a in Article.objects.all()}
    result = knowledge_import(directory=out)
    assert result.articles_updated == 0 and result.articles_unchanged == len(before)
    after = {a.slug: (a.title, a.body, a.language, a.department_id, a.tags, a.example_questions) for a in Article.objects.all()}
    assert after == before


def test_translations_are_linked(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "kb"
    shutil.copytree(DEMO, copy)
    (copy / "knowledge" / "contact-centre-en.md").write_text(
        "---\nslug: contact-centre-en\ntitle: Contact the city\nlanguage: en\ndepartment: kundtjanst\n"
        "tags: [contact]\ntranslation_of: kundtjanst-kontakt\n---\n\nCall 08-465 004 00 on weekdays 8-17.\n",
        encoding="utf-8",
    )
    knowledge_import(directory=copy)
    sv, en = Article.objects.get(slug="kundtjanst-kontakt"), Article.objects.get(slug="contact-centre-en")
    assert sv.translation_group == en.translation_group
    out = tmp_path / "out"
    knowledge_export(directory=out)
    assert "translation_of: kundtjanst-kontakt" in (out / "knowledge" / "contact-centre-en.md").read_text(encoding="utf-8")


def test_article_save_writes_a_version_per_change(demo_kb) -> None:  # type: ignore[no-untyped-def]
    department = Department.objects.get(code="avfall")
    article, changed = article_save(slug="ny", title="Ny", body="Text", language="sv", department=department)
    assert changed and article.version == 1
    _same, changed_again = article_save(slug="ny", title="Ny", body="Text", language="sv", department=department)
    assert not changed_again
    article, _ = article_save(slug="ny", title="Ny", body="Ny text", language="sv", department=department, status="published")
    assert article.version == 2 and article.versions.count() == 2


def test_usage_counters(demo_kb) -> None:  # type: ignore[no-untyped-def]
    for event in ["suggested", "suggested", "auto_answered", "helpful_yes"]:
        article_usage_record(slug="attefallsatgarder", event=event)
    usage = ArticleUsage.objects.get(article__slug="attefallsatgarder")
    assert (usage.suggested, usage.auto_answered, usage.helpful_yes, usage.helpful_no) == (2, 1, 1, 0)
    with pytest.raises(ValueError):
        article_usage_record(slug="attefallsatgarder", event="liked")
