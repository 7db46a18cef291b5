"""Scoring the engine against labelled enquiries.

Learned examples are only ever used out-of-fold: an enquiry is decided by a model that has not
seen its own label, so the figures estimate performance on new enquiries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from routing.dataset import LabelledEnquiry
from routing.engine import Article, Decision, Department, Enquiry, Example, RoutingModel, decide


def answered(decision: Decision, channel: str) -> bool:
    """An enquiry counts as answered from the knowledge base when the decision is ``answer``.
    The channel decides the delivery: sent automatically on web, e-mail and chat; handed to the
    agent on the phone (counted under ``auto`` only where it is sent automatically)."""
    return decision.action == "answer"


@dataclass(slots=True)
class Tally:
    total: int = 0
    dept_ok: int = 0
    answered: int = 0
    answered_ok: int = 0
    answerable: int = 0
    auto: int = 0
    auto_ok: int = 0
    auto_answerable: int = 0
    complaint: Counter[str] = field(default_factory=Counter)
    business: Counter[str] = field(default_factory=Counter)

    def add(self, item: LabelledEnquiry, decision: Decision) -> None:
        self.total += 1
        self.dept_ok += decision.department == item.department
        if item.article:
            self.answerable += 1
            if item.channel != "phone":
                self.auto_answerable += 1
        if answered(decision, item.channel):
            self.answered += 1
            self.answered_ok += decision.article == item.article and item.article is not None
        if decision.action == "answer" and item.channel != "phone":
            self.auto += 1
            self.auto_ok += decision.article == item.article and item.article is not None
        for name, truth, guess in (
            ("complaint", item.complaint, decision.complaint),
            ("business", item.business, decision.business),
        ):
            counter = self.complaint if name == "complaint" else self.business
            truth = bool(truth)
            counter[("t" if guess == truth else "f") + ("p" if guess else "n")] += 1

    @staticmethod
    def f1(counter: Counter[str]) -> float:
        tp, fp, fn = counter["tp"], counter["fp"], counter["fn"]
        if tp == 0:
            return 0.0 if (fp or fn) else 1.0
        return 2 * tp / (2 * tp + fp + fn)

    def summary(self) -> dict[str, float]:
        return {
            "n": self.total,
            "department_accuracy": self.dept_ok / self.total if self.total else 0.0,
            "answer_precision": self.answered_ok / self.answered if self.answered else 1.0,
            "answer_coverage": self.answered_ok / self.answerable if self.answerable else 0.0,
            "auto_precision": self.auto_ok / self.auto if self.auto else 1.0,
            "auto_coverage": self.auto_ok / self.auto_answerable if self.auto_answerable else 0.0,
            "complaint_f1": self.f1(self.complaint),
            "business_f1": self.f1(self.business),
        }


@dataclass(slots=True)
class Report:
    overall: Tally
    by_language: dict[str, Tally]
    by_channel: dict[str, Tally]
    confusion: dict[str, Counter[str]]
    decisions: dict[str, Decision]

    def lines(self) -> list[str]:
        out: list[str] = []

        def fmt(name: str, tally: Tally) -> str:
            s = tally.summary()
            return (
                f"{name:<10} n={s['n']:<4} dept={s['department_accuracy']:.3f} "
                f"answer P={s['answer_precision']:.3f} cov={s['answer_coverage']:.3f} "
                f"auto P={s['auto_precision']:.3f} cov={s['auto_coverage']:.3f} "
                f"complaint F1={s['complaint_f1']:.3f} business F1={s['business_f1']:.3f}"
            )

        out.append(fmt("overall", self.overall))
        for lang, tally in sorted(self.by_language.items()):
            out.append(fmt(f"lang {lang}", tally))
        for channel, tally in sorted(self.by_channel.items()):
            out.append(fmt(f"ch {channel}", tally))
        codes = sorted(set(self.confusion) | {c for row in self.confusion.values() for c in row})
        width = max((len(c) for c in codes), default=8)
        out.append("confusion (rows = expected, columns = predicted):")
        out.append(" " * (width + 1) + " ".join(c[:5].rjust(5) for c in codes))
        for expected in codes:
            row = self.confusion.get(expected, Counter())
            out.append(expected.ljust(width + 1) + " ".join(str(row.get(c, 0) or ".").rjust(5) for c in codes))
        return out


def evaluate(
    items: Sequence[LabelledEnquiry],
    model_for: Callable[[int], RoutingModel],
    fold_of: Callable[[int], int] = lambda index: 0,
) -> Report:
    overall = Tally()
    by_language: dict[str, Tally] = defaultdict(Tally)
    by_channel: dict[str, Tally] = defaultdict(Tally)
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    decisions: dict[str, Decision] = {}
    for index, item in enumerate(items):
        model = model_for(fold_of(index))
        decision = decide(model, Enquiry(text=item.text, channel=item.channel))
        decisions[item.id] = decision
        overall.add(item, decision)
        by_language[item.language or "?"].add(item, decision)
        by_channel[item.channel].add(item, decision)
        confusion[item.department or "?"][decision.department] += 1
    return Report(overall, dict(by_language), dict(by_channel), dict(confusion), decisions)


def evaluate_directory(
    departments: Sequence[Department],
    articles: Sequence[Article],
    items: Sequence[LabelledEnquiry],
    *,
    folds: int = 0,
    seed_examples: Sequence[Example] = (),
) -> Report:
    """folds=0: the model knows departments, articles and the seed corpus only (no labels of
    this set). folds=k: k-fold cross-validation, each fold's enquiries learned from the others."""
    if folds <= 1:
        model = RoutingModel(departments=departments, articles=articles, examples=seed_examples)
        return evaluate(items, lambda _fold: model)
    models: dict[int, RoutingModel] = {}

    def model_for(fold: int) -> RoutingModel:
        if fold not in models:
            learned = [
                Example(text=item.text, department=item.department, article=item.article)
                for index, item in enumerate(items)
                if index % folds != fold and item.department
            ]
            models[fold] = RoutingModel(
                departments=departments, articles=articles, examples=[*seed_examples, *learned]
            )
        return models[fold]

    return evaluate(items, model_for, lambda index: index % folds)
