from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.services import routing_decide


class Command(BaseCommand):
    help = 'Route enquiries from a JSONL file of {"id", "text", "channel"}; one JSON decision per line.'

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", required=True, help="input file, or - for stdin")
        parser.add_argument("--explain", action="store_true", help="also write explanation and suggestions")

    def handle(self, *args: Any, **options: Any) -> None:
        source = sys.stdin if options["jsonl"] == "-" else Path(options["jsonl"]).open(encoding="utf-8")
        with source:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"line {number}: invalid JSON ({exc.msg})") from exc
                decision = routing_decide(
                    text=str(item.get("text") or ""),
                    channel=str(item.get("channel") or "web"),
                    language=item.get("language_hint"),
                )
                out: dict[str, Any] = {
                    "id": item.get("id"),
                    "action": decision.action,
                    "department": decision.department,
                    "article": decision.article,
                    "confidence": round(decision.confidence, 3),
                    "language": decision.language,
                    "complaint": decision.complaint,
                    "business": decision.business,
                }
                if options["explain"]:
                    out["explanation"] = decision.explanation
                    out["suggestions"] = [s.slug for s in decision.suggestions]
                self.stdout.write(json.dumps(out, ensure_ascii=False))
