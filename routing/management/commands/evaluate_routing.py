from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routing.dataset import FormatError, read_articles, read_departments, read_enquiries
from routing.evaluation import evaluate_directory


class Command(BaseCommand):
    help = (
        "Evaluate the routing engine on DIR (departments.yaml, knowledge/*.md, enquiries.jsonl). "
        "The engine is built in memory from the files; the database is not touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--folds", type=int, default=5,
            help="also run k-fold cross-validation with the other folds' labels as learned examples (0 = off)",
        )
        parser.add_argument("--errors", action="store_true", help="list the misrouted and wrongly answered enquiries")

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        try:
            departments = read_departments(directory / "departments.yaml")
            articles = read_articles(directory, {d.code for d in departments})
            items = read_enquiries(directory / "enquiries.jsonl")
        except (FormatError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{len(departments)} departments, {len(articles)} articles, {len(items)} enquiries")
        self.stdout.write(
            "Note: 'answer' counts automatic answers plus, on the phone, the article handed to the agent; "
            "'auto' counts automatic answers only (coverage over non-phone answerable enquiries)."
        )
        runs = [("no learned examples (knowledge base + lexicon only)", 0)]
        if options["folds"] > 1:
            runs.append((f"{options['folds']}-fold cross-validation with learned examples", options["folds"]))
        for title, folds in runs:
            report = evaluate_directory(departments, articles, items, folds=folds)
            self.stdout.write(f"\n== {title}")
            for line in report.lines():
                self.stdout.write(line)
            if options["errors"]:
                for item in items:
                    decision = report.decisions[item.id]
                    wrong_answer = decision.article is not None and decision.article != item.article
                    if decision.department != item.department or wrong_answer:
                        self.stdout.write(
                            f"{item.id} expected {item.department}/{item.article} got "
                            f"{decision.action} {decision.department}/{decision.article}: {decision.explanation}"
                        )
