"""The routing side of the feedback port (``contactcentre.intake.ports.feedback_on_commit``):
corrections teach the engine, usage counters tell editors which articles work."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from knowledge.services import article_usage_record, article_usage_record_many

from .services import routing_record_correction


def ticket_feedback(kind: str, *, ticket_id: int, **data: Any) -> None:
    if kind == "rerouted":
        routing_record_correction(ticket_id=ticket_id, department=str(data["department"]), source="reroute")
    elif kind == "reply_article":
        slug = str(data["article"])
        article_usage_record(slug=slug, event="used_in_reply")
        actor = get_user_model().objects.filter(pk=data.get("actor_id")).first() if data.get("actor_id") else None
        routing_record_correction(ticket_id=ticket_id, article=slug, source="reply_article", actor=actor)
    elif kind == "auto_answered":
        article_usage_record(slug=str(data["article"]), event="auto_answered")
    elif kind == "suggested":
        article_usage_record_many(slugs=[str(slug) for slug in data.get("articles", ())], event="suggested")
