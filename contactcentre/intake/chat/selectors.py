"""Reads for the agents' chat list."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ChatSession


def chat_list(*, states: list[str] | None = None) -> QuerySet[ChatSession]:
    states = states or [ChatSession.State.WAITING]
    return (
        ChatSession.objects.filter(state__in=states, ticket__isnull=False)
        .select_related("ticket", "accepted_by")
        .order_by("waiting_since", "id")
    )


def chat_get(*, session_id: int) -> ChatSession | None:
    return ChatSession.objects.select_related("ticket", "accepted_by").filter(pk=session_id).first()
