from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.services import knowledge_import
from routing.dataset import FormatError


class Command(BaseCommand):
    help = "Import DIR/departments.yaml and DIR/knowledge/*.md (all or nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--draft", action="store_true", help="Leave new articles as drafts")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a directory")
        try:
            result = knowledge_import(directory=directory, publish=not options["draft"])
        except FormatError as exc:
            raise CommandError(f"{exc.path}:{exc.line}: {exc.message} (nothing imported)") from exc
        self.stdout.write(
            f"departments: {result.departments_created} created, {result.departments_updated} updated; "
            f"articles: {result.articles_created} created, {result.articles_updated} updated, "
            f"{result.articles_unchanged} unchanged"
        )
