"""Django glue for the routing engine: build the engine from the database, keep one cached
instance per process, and translate between intake's ports and the engine's dataclasses."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from django.db import transaction
from django.utils import timezone

from contactcentre.intake.ports import RoutingOutcome, RoutingRequest
from contactcentre.tickets.models import Department
from knowledge.rendering import markdown_to_text  # standalone: no cycle with knowledge.models

from . import engine
from .models import RoutingCorrection, RoutingRule
from .versioning import routing_model_invalidate, routing_model_version

# Corrections older than this many are ignored: the newest reflect current practice.
MAX_EXAMPLES = 20_000

_lock = threading.Lock()
_current: engine.RoutingModel | None = None


def routing_model_build(*, version: str = "") -> engine.RoutingModel:
    """Read departments, published articles, corrections and rules, and build a new index."""
    from knowledge.models import Article  # knowledge depends on routing, not the reverse

    departments = [
        engine.Department(
            code=d.code,
            name=d.name,
            description=d.description,
            email_auto_answer_threshold=d.email_auto_answer_threshold,
        )
        for d in Department.objects.filter(is_active=True)
    ]
    articles = [
        engine.Article(
            slug=a.slug,
            title=a.title,
            body=a.body,
            language=a.language,
            department=a.department.code,
            tags=tuple(a.tags or ()),
            example_questions=tuple(a.example_questions or ()),
        )
        for a in Article.objects.filter(status=Article.Status.PUBLISHED).select_related("department")
    ]
    examples = [
        engine.Example(
            text=c.text,
            department=c.department.code if c.department else "",
            article=c.article.slug if c.article else None,
            # An agent actively re-routing is stronger evidence than passive history.
            weight=1.5 if c.source == RoutingCorrection.Source.REROUTE else 1.0,
        )
        for c in RoutingCorrection.objects.select_related("department", "article").order_by("-created_at")[:MAX_EXAMPLES]
        if c.department is not None
    ]
    rules = [
        engine.Rule(
            department=r.department.code if r.department else None,
            priority=r.priority or None,
            sender_domain=r.sender_domain,
            phrase=r.phrase,
            name=r.name,
        )
        for r in RoutingRule.objects.filter(is_active=True).select_related("department")
    ]
    return engine.RoutingModel(
        departments=departments, articles=articles, examples=examples, rules=rules, version=version
    )


def routing_model_current() -> engine.RoutingModel:
    """The process-wide model, rebuilt when the shared version counter moves.

    While a rebuild runs, other threads keep deciding with the previous model; the new one is
    swapped in with a single reference assignment, so no request ever sees a half-built index.
    """
    global _current
    version = routing_model_version()
    model = _current
    if model is not None and model.version == version:
        return model
    if model is not None and not _lock.acquire(blocking=False):
        return model  # another thread is already rebuilding
    if model is None:
        _lock.acquire()
    try:
        if _current is not None and _current.version == version:
            return _current
        _current = routing_model_build(version=version)
        return _current
    finally:
        _lock.release()


def routing_model_warm_in_background() -> None:
    """Build the model in a daemon thread at server start, so the first enquiry after a deploy
    or restart does not wait for the index (seconds with thousands of articles). Failures are
    logged, never raised: the first request then builds it as before."""

    def warm() -> None:
        from django.db import close_old_connections

        try:
            routing_model_current()
        except Exception:
            logging.getLogger(__name__).warning("routing warm-up failed; the first request builds the model", exc_info=True)
        finally:
            close_old_connections()

    threading.Thread(target=warm, name="routing-warm-up", daemon=True).start()


def routing_model_reset() -> None:
    """Drop the cached model (tests, or after a bulk import in the same process)."""
    global _current
    with _lock:
        _current = None


def routing_decide(*, text: str, channel: str, language: str | None = None, subject: str = "", sender_email: str = "") -> engine.Decision:
    return engine.decide(
        routing_model_current(),
        engine.Enquiry(text=text, channel=channel, language=language, subject=subject, sender_email=sender_email),
        now=timezone.now(),
    )


def route_request(request: RoutingRequest) -> RoutingOutcome:
    """The router for ``settings.CONTACTCENTRE_ROUTER``."""
    model = routing_model_current()
    decision = engine.decide(
        model,
        engine.Enquiry(
            text=request.text,
            channel=request.channel,
            language=request.language,
            subject=request.subject,
            sender_email=request.sender_email,
            sender_phone=request.sender_phone,
        ),
        now=timezone.now(),
    )
    return decision_to_outcome(decision, model)


@functools.lru_cache(maxsize=512)
def _answer_text(body: str) -> str:
    """Rendering Markdown costs milliseconds; the same few articles answer most enquiries."""
    return markdown_to_text(body)


def decision_to_outcome(decision: engine.Decision, model: engine.RoutingModel) -> RoutingOutcome:
    answer_title = answer_text = ""
    if decision.action == "answer" and decision.article and decision.article in model.articles:
        article = model.articles[decision.article]
        # Residents get text, not Markdown markup (e-mail, chat and the status page show text).
        answer_title, answer_text = article.title, _answer_text(article.body)
    return RoutingOutcome(
        action=decision.action,
        department=decision.department,
        article=decision.article,
        confidence=decision.confidence,
        language=decision.language,
        complaint=decision.complaint,
        business=decision.business,
        explanation=decision.explanation,
        priority=decision.priority,
        category="complaint" if decision.complaint else "",
        answer_title=answer_title,
        answer_text=answer_text,
        suggestions=tuple(s.slug for s in decision.suggestions),
    )


def decision_as_dict(decision: engine.Decision) -> dict[str, Any]:
    data = decision.as_dict()
    data["suggestions"] = [
        {"slug": s.slug, "title": s.title, "department": s.department, "language": s.language, "score": s.score}
        for s in decision.suggestions
    ]
    return data


@transaction.atomic
def routing_record_correction(
    *,
    ticket_id: int,
    department: Department | str | None = None,
    article: Any = None,
    source: str,
    actor: Any = None,
) -> RoutingCorrection | None:
    """Remember what an agent did with a ticket so that later decisions learn from it.

    ``department`` may be a Department or its code; ``article`` an Article or its slug. With
    only an article, the department is the article's. The text is the ticket's first inbound
    message, which is what the engine saw.
    """
    from contactcentre.tickets.models import Message, Ticket
    from knowledge.models import Article

    if source not in RoutingCorrection.Source.values:
        raise ValueError(f"unknown correction source {source!r}")
    if isinstance(department, str):
        department = Department.objects.get(code=department)
    if isinstance(article, str):
        article = Article.objects.select_related("department").get(slug=article)
    if department is None and article is not None:
        department = article.department
    if department is None:
        return None
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return None
    first = (
        Message.objects.filter(ticket_id=ticket_id, direction=Message.Direction.INBOUND)
        .order_by("created_at", "pk")
        .first()
    )
    text = first.body_text if first else ""
    if first and first.subject:
        text = f"Ämne: {first.subject}\n\n{text}"
    if not text.strip():
        return None
    correction = RoutingCorrection.objects.create(
        text=text, channel=ticket.channel, department=department, article=article,
        source=source, ticket_id=ticket_id, created_by=actor,
    )
    return correction


def routing_retrain() -> str:
    """Build a fresh index in this process, then announce it to every other process."""
    global _current
    version = routing_model_invalidate()
    model = routing_model_build(version=version)
    _current = model  # one reference assignment: the swap is atomic for readers
    return version


_FINGERPRINT_KEY = "routing:learned-fingerprint"


def _learned_fingerprint() -> str:
    """What the periodic retrain looks at: corrections and rules (article edits invalidate at once)."""
    from django.db.models import Count, Max

    parts = []
    for model in (RoutingCorrection, RoutingRule):
        agg = model.objects.aggregate(n=Count("id"), last=Max("id"))
        parts.append(f"{agg['n']}:{agg['last']}")
    active = RoutingRule.objects.filter(is_active=True).values_list("id", flat=True)
    parts.append(",".join(str(i) for i in sorted(active)))
    return "|".join(parts)


def routing_retrain_if_changed() -> str:
    """Retrain when agents' corrections or admins' rules changed since the last run, else skip
    (an index over thousands of articles takes seconds to build: don't do it for nothing)."""
    from django.core.cache import cache

    fingerprint = _learned_fingerprint()
    if cache.get(_FINGERPRINT_KEY) == fingerprint:
        return "unchanged"
    version = routing_retrain()
    cache.set(_FINGERPRINT_KEY, fingerprint, timeout=None)
    return version
