"""Reading the knowledge-base directory format (departments.yaml, knowledge/*.md, enquiries.jsonl).

Pure Python: the Django importer (``import_knowledge``) and the evaluation both use it, so there
is exactly one parser of the format and one set of validation errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from routing.engine import Article, Department

LANGUAGES = ("sv", "en", "fi")


class FormatError(ValueError):
    """A malformed file, with the file name and line to show the editor."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


@dataclass(frozen=True, slots=True)
class LabelledEnquiry:
    id: str
    channel: str
    text: str
    language: str | None
    department: str | None
    article: str | None
    complaint: bool | None
    business: bool | None


def read_departments(path: Path) -> list[Department]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(path, (mark.line + 1) if mark else 1, f"invalid YAML: {exc}") from exc
    if not isinstance(raw, list):
        raise FormatError(path, 1, "expected a list of departments")
    text_lines = path.read_text(encoding="utf-8").splitlines()
    departments: list[Department] = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        line = _nth_item_line(text_lines, position)
        if not isinstance(item, dict) or not item.get("code") or not item.get("name"):
            raise FormatError(path, line, "each department needs 'code' and 'name'")
        code = str(item["code"])
        if code in seen:
            raise FormatError(path, line, f"duplicate department code {code!r}")
        seen.add(code)
        departments.append(
            Department(code=code, name=str(item["name"]), description=str(item.get("description") or "").strip())
        )
    return departments


def read_department_extras(path: Path) -> dict[str, dict[str, str]]:
    """email/phone per department code (the engine does not need them; the importer does)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return {
        str(item["code"]): {"email": str(item.get("email") or ""), "phone": str(item.get("phone") or "")}
        for item in raw
        if isinstance(item, dict) and item.get("code")
    }


def _nth_item_line(lines: list[str], position: int) -> int:
    count = -1
    for number, line in enumerate(lines, start=1):
        if line.startswith("- "):
            count += 1
            if count == position:
                return number
    return 1


def parse_article(path: Path, department_codes: set[str] | None = None) -> Article:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise FormatError(path, 1, "missing YAML front matter (first line must be '---')")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise FormatError(path, 1, "front matter is not closed with '---'") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise FormatError(path, (mark.line + 2) if mark else 2, f"invalid front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise FormatError(path, 2, "front matter must be a mapping")

    def line_of(key: str) -> int:
        for number in range(1, end):
            if lines[number].startswith(f"{key}:"):
                return number + 1
        return 2

    for key in ("slug", "title", "language", "department"):
        if not meta.get(key):
            raise FormatError(path, line_of(key) if key in meta else 2, f"missing '{key}'")
    if meta["language"] not in LANGUAGES:
        raise FormatError(path, line_of("language"), f"language must be one of {', '.join(LANGUAGES)}")
    if department_codes is not None and meta["department"] not in department_codes:
        raise FormatError(path, line_of("department"), f"unknown department {meta['department']!r}")
    tags = meta.get("tags") or []
    questions = meta.get("example_questions") or meta.get("questions") or []
    if not isinstance(tags, list) or not isinstance(questions, list):
        raise FormatError(path, line_of("tags"), "tags and example_questions must be lists")
    body = "\n".join(lines[end + 1 :]).strip()
    if not body:
        raise FormatError(path, end + 1, "the article has no body")
    return Article(
        slug=str(meta["slug"]),
        title=str(meta["title"]),
        body=body,
        language=str(meta["language"]),
        department=str(meta["department"]),
        tags=tuple(str(t) for t in tags),
        example_questions=tuple(str(q) for q in questions),
    )


def read_articles(directory: Path, department_codes: set[str] | None = None) -> list[Article]:
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in sorted((directory / "knowledge").glob("*.md")):
        article = parse_article(path, department_codes)
        if article.slug in seen:
            raise FormatError(path, 2, f"slug {article.slug!r} also used by {seen[article.slug].name}")
        seen[article.slug] = path
        articles.append(article)
    return articles


def read_enquiries(path: Path) -> list[LabelledEnquiry]:
    out: list[LabelledEnquiry] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(path, number, f"invalid JSON: {exc.msg}") from exc
        out.append(
            LabelledEnquiry(
                id=str(raw.get("id", number)),
                channel=str(raw.get("channel") or "web"),
                text=str(raw.get("text") or ""),
                language=raw.get("language"),
                department=raw.get("department"),
                article=raw.get("article"),
                complaint=raw.get("complaint"),
                business=raw.get("business"),
            )
        )
    return out
