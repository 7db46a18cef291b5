"""Reads for the console's work distribution: loads, who is online, waiting work, canned replies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from contactcentre.intake.chat import presence
from contactcentre.intake.chat.models import ChatSession
from contactcentre.tickets.models import Channel, Ticket

from .models import AgentStatus, CannedReply, Offer

User = get_user_model()
Status = Ticket.Status
CALLBACK_CATEGORY = "callback"  # as contactcentre.intake.phone.services.CALLBACK_CATEGORY
# Tickets an agent holds that take a slot of their capacity; "waiting" is the resident's turn.
HOLDING_STATUSES = (Status.NEW, Status.OPEN)


def agent_loads(user_ids: Iterable[int]) -> dict[int, int]:
    """Open offers + distinct tickets held (new/open) or chatted on (with_agent), per agent.

    A chat an agent accepted is also a ticket they hold: counting the union of ticket ids keeps
    one conversation one slot. Three queries whatever the number of agents.
    """
    ids = list(user_ids)
    if not ids:
        return {}
    offers = dict(
        Offer.objects.filter(agent_id__in=ids, state=Offer.State.OFFERED)
        .values_list("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    held: dict[int, set[int]] = defaultdict(set)
    for agent_id, ticket_id in Ticket.objects.filter(assignee_id__in=ids, status__in=HOLDING_STATUSES).values_list(
        "assignee_id", "id"
    ):
        held[agent_id].add(ticket_id)
    for agent_id, ticket_id in ChatSession.objects.filter(
        accepted_by_id__in=ids, state=ChatSession.State.WITH_AGENT, ticket__isnull=False
    ).values_list("accepted_by_id", "ticket_id"):
        held[agent_id].add(ticket_id)
    return {agent_id: offers.get(agent_id, 0) + len(held.get(agent_id, ())) for agent_id in ids}


def _display_name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


def agents_online_list() -> list[dict[str, Any]]:
    """Members of staff with the console open: ``username, name, role, available, load, capacity``.

    Constant query count (users with their status in one, loads in three)."""
    online = presence.agents_online()
    if not online:
        return []
    users = list(
        User.objects.filter(pk__in=online, is_active=True)
        .select_related("workdist_status")
        .order_by("first_name", "last_name", "username")
    )
    loads = agent_loads(u.pk for u in users)
    rows = []
    for user in users:
        status = getattr(user, "workdist_status", None)
        rows.append({
            "username": user.get_username(),
            "name": _display_name(user),
            "role": user.role,
            "available": bool(status and status.available),
            "load": loads.get(user.pk, 0),
            "capacity": user.capacity,
        })
    return rows


def agent_status_row(*, user: Any) -> dict[str, Any]:
    status = AgentStatus.objects.filter(user=user).only("available").first()
    return {
        "username": user.get_username(),
        "name": _display_name(user),
        "role": user.role,
        "available": bool(status and status.available),
        "load": agent_loads([user.pk])[user.pk],
        "capacity": user.capacity,
    }


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent who may be offered work now (available and connected), with free slots."""

    user_id: int
    capacity: int
    languages: frozenset[str]
    load: int
    last_offered_at: datetime | None


def _languages(user: Any) -> frozenset[str]:
    langs = [str(x).lower() for x in (user.languages or []) if x]
    # An agent without languages listed works in the city's own language.
    return frozenset(langs or [settings.LANGUAGE_CODE])


def available_candidates() -> list[Candidate]:
    online = presence.agents_online()
    if not online:
        return []
    statuses = list(
        AgentStatus.objects.filter(user_id__in=online, available=True, user__is_active=True)
        .select_related("user")
    )
    statuses = [s for s in statuses if s.user.sees_all_departments]
    loads = agent_loads(s.user_id for s in statuses)
    return [
        Candidate(
            user_id=s.user_id,
            capacity=s.user.capacity,
            languages=_languages(s.user),
            load=loads.get(s.user_id, 0),
            last_offered_at=s.last_offered_at,
        )
        for s in statuses
    ]


@dataclass(frozen=True, slots=True)
class WaitingItem:
    kind: str
    ticket_id: int
    language: str
    session_id: int | None = None



_PRIORITY_RANK = Case(
    When(priority=Ticket.Priority.URGENT, then=Value(0)),
    When(priority=Ticket.Priority.HIGH, then=Value(1)),
    When(priority=Ticket.Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def callback_waiting_q() -> Q:
    return Q(category=CALLBACK_CATEGORY, assignee__isnull=True, status__in=HOLDING_STATUSES, merged_into__isnull=True)


def ticket_waiting_q() -> Q:
    # Chat tickets wait through their chat session (the bot may still be talking), callbacks apart.
    return (Q(status=Status.NEW, assignee__isnull=True, merged_into__isnull=True)
            & ~Q(channel=Channel.CHAT) & ~Q(category=CALLBACK_CATEGORY))


def waiting_items(*, limit: int = 200) -> list[WaitingItem]:
    """Work waiting for an agent with no open offer, in the order it is offered: live chats
    (a resident is at the screen) first, then callbacks, then new tickets; urgent first, then
    oldest first within each."""
    open_offer = Offer.objects.filter(ticket_id=OuterRef("ticket_id"), state=Offer.State.OFFERED)
    chats = (
        ChatSession.objects.filter(state=ChatSession.State.WAITING, ticket__isnull=False)
        .exclude(Exists(open_offer))
        .order_by("waiting_since", "id")
        .values_list("id", "ticket_id", "language")[:limit]
    )
    items = [WaitingItem(kind=Offer.Kind.CHAT, ticket_id=t, language=lang, session_id=s) for s, t, lang in chats]
    ticket_open_offer = Offer.objects.filter(ticket_id=OuterRef("pk"), state=Offer.State.OFFERED)
    for kind, q in ((Offer.Kind.CALLBACK, callback_waiting_q()), (Offer.Kind.TICKET, ticket_waiting_q())):
        rows = (
            Ticket.objects.filter(q)
            .exclude(Exists(ticket_open_offer))
            .annotate(rank=_PRIORITY_RANK)
            .order_by("rank", "id")
            .values_list("id", "language")[:limit]
        )
        items += [WaitingItem(kind=kind, ticket_id=t, language=lang) for t, lang in rows]
    return items


def recently_refused(*, since: datetime) -> set[tuple[int, int]]:
    """(ticket id, agent id) pairs declined or let expire since ``since``: not offered again to
    the same agent at once, so a declined item moves on instead of bouncing back."""
    return set(
        Offer.objects.filter(state__in=[Offer.State.DECLINED, Offer.State.EXPIRED], decided_at__gte=since)
        .values_list("ticket_id", "agent_id")
    )


def offers_open_for(*, user: Any) -> QuerySet[Offer]:
    return Offer.objects.filter(agent=user, state=Offer.State.OFFERED).select_related("ticket").order_by("id")


def canned_reply_list() -> QuerySet[CannedReply]:
    return CannedReply.objects.select_related("department").order_by("language", "title", "id")


def canned_replies_for_ticket(*, ticket: Ticket) -> QuerySet[CannedReply]:
    """Active replies in the ticket's language, for its department or for all departments."""
    department = Q(department__isnull=True)
    if ticket.department_id:
        department |= Q(department_id=ticket.department_id)
    return (
        CannedReply.objects.filter(department, active=True, language=ticket.language)
        .select_related("department")
        .order_by("title", "id")
    )
