from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from knowledge.services import knowledge_export


class Command(BaseCommand):
    help = "Export departments and published articles to DIR in the import format."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--drafts", action="store_true", help="Include draft articles")

    def handle(self, *args: Any, **options: Any) -> None:
        count = knowledge_export(directory=options["directory"], include_drafts=options["drafts"])
        self.stdout.write(f"{count} articles written to {options['directory']}")
