"""Work distribution, availability, agents online and canned replies: every change here.

Distribution (``workdist_dispatch``) is a pass over the waiting work after each relevant commit
and on a periodic tick: expire offers past their time, withdraw offers whose work was taken or
whose agent left, then offer each waiting item to the eligible agent offered work longest ago
(round-robin), within capacity and language. Exactly-once is the database's job: a partial
unique index allows one open offer per ticket, and each offer is written under the chosen
agent's ``AgentStatus`` row lock after re-counting their load, so racing dispatchers can
neither double-offer an item nor overfill an agent.

Lock order: offer, then chat session, then ticket (``offer_accept``); dispatch locks only the
agent's status row and inserts offers, so it cannot deadlock with the ticket services.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from contactcentre.intake.chat import presence
from contactcentre.tickets import events
from contactcentre.tickets.errors import ConflictError, DomainError, NotFound, NotPermitted
from contactcentre.tickets.models import Department, Ticket

from . import selectors
from .hooks import workdist_dispatch_on_commit
from .models import AgentStatus, CannedReply, Offer

log = logging.getLogger(__name__)
OFFERED = Offer.State.OFFERED
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

DISPATCH_LOCK_KEY = "workdist:dispatch:lock"
DISPATCH_AGAIN_KEY = "workdist:dispatch:again"
DISPATCH_PENDING_KEY = "workdist:dispatch:pending"
DISPATCH_PENDING_TTL_S = 10  # a lost job holds back further requests this long at most (the tick runs anyway)
ONLINE_PENDING_KEY = "workdist:online:pending"
ONLINE_LAST_KEY = "workdist:online:last"


class OfferNotOpen(ConflictError):
    code = "offer_not_open"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _require_console_staff(actor: Any) -> None:
    # Offers and availability are the contact centre's: caseworkers work their department queue.
    if not getattr(actor, "is_staff_member", False) or not actor.sees_all_departments:
        raise NotPermitted("Only contact-centre agents take offered work.")


def _require_supervisor(actor: Any) -> None:
    if not getattr(actor, "is_active", False) or not (actor.is_superuser or actor.role in {"supervisor", "admin"}):
        raise NotPermitted("Only supervisors and administrators may do this.")


# --- frames -------------------------------------------------------------------------------

def offer_frame(offer: Offer, ticket: Ticket | None = None) -> dict[str, Any]:
    ticket = ticket or offer.ticket
    return {
        "offer_id": offer.pk,
        "kind": offer.kind,
        "ticket": ticket.reference,
        "ticket_id": ticket.pk,
        "subject": ticket.subject[:120],
        "language": ticket.language,
        "priority": ticket.priority,
        "session_id": offer.chat_session_id,
        "expires_at": offer.expires_at.isoformat(),
    }


def _send_to_agent(agent_id: int, event_type: str, payload: dict[str, Any]) -> None:
    # Not durable: the replay log is shared by all staff, an offer is one agent's. A socket that
    # missed it gets its open offers again on (re)connect and from GET /api/v1/offers/.
    events.emit_event(event_type, payload, groups=[events.user_group(agent_id)], durable=False)


def _withdrawn(offer: Offer, reason: str) -> None:
    _send_to_agent(offer.agent_id, "offer.withdrawn", {"offer_id": offer.pk, "reason": reason})


# --- distribution -------------------------------------------------------------------------

@dataclass(slots=True)
class DispatchResult:
    offered: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)


def workdist_dispatch(*, now: datetime | None = None) -> DispatchResult:
    """One distribution pass (see the module docstring). Safe to run concurrently."""
    now = now or timezone.now()
    result = DispatchResult()
    candidates = {c.user_id: c for c in selectors.available_candidates()}
    # Expiry and withdrawal only concern open offers: with none (the usual case on an intake
    # when nobody holds an offer), one indexed EXISTS replaces both scans.
    if Offer.objects.filter(state=OFFERED).exists():
        result.expired = _expire_offers(now)
        result.withdrawn = _withdraw_stale(now, available=set(candidates))
    if candidates:
        result.offered = _offer_waiting(candidates, now)
    if result.offered or result.expired or result.withdrawn:
        agents_online_changed()
    return result


def _expire_offers(now: datetime) -> list[int]:
    expired = []
    for offer in Offer.objects.filter(state=OFFERED, expires_at__lte=now).only("id", "agent_id"):
        with transaction.atomic():
            # A conditional UPDATE: of an accept and an expiry racing, exactly one moves the row.
            if Offer.objects.filter(pk=offer.pk, state=OFFERED).update(state=Offer.State.EXPIRED, decided_at=now):
                _withdrawn(offer, "expired")
                expired.append(offer.pk)
    return expired


def _still_waiting(offer: Offer) -> bool:
    if offer.kind == Offer.Kind.CHAT:
        session = offer.chat_session
        return session is not None and session.state == session.State.WAITING and session.ticket_id == offer.ticket_id
    ticket = offer.ticket
    if ticket.assignee_id is not None or ticket.merged_into_id is not None:
        return False
    return ticket.status in selectors.HOLDING_STATUSES


def _withdraw_stale(now: datetime, *, available: set[int]) -> list[int]:
    """Open offers whose work was taken (claimed, accepted as a chat, merged, resolved) or whose
    agent is no longer available (went away, closed the console)."""
    withdrawn = []
    for offer in Offer.objects.filter(state=OFFERED).select_related("ticket", "chat_session"):
        agent_gone = offer.agent_id not in available
        if not agent_gone and _still_waiting(offer):
            continue
        with transaction.atomic():
            if Offer.objects.filter(pk=offer.pk, state=OFFERED).update(state=Offer.State.WITHDRAWN, decided_at=now):
                _withdrawn(offer, "agent_unavailable" if agent_gone else "taken")
                withdrawn.append(offer.pk)
    return withdrawn


def _offer_waiting(candidates: dict[int, selectors.Candidate], now: datetime) -> list[int]:
    load = {uid: c.load for uid, c in candidates.items()}
    last = {uid: c.last_offered_at or _EPOCH for uid, c in candidates.items()}
    if all(load[uid] >= c.capacity for uid, c in candidates.items()):
        return []
    refused = selectors.recently_refused(since=now - timedelta(seconds=_setting("WORKDIST_REOFFER_AFTER_S", 300)))
    offered: list[int] = []
    for item in selectors.waiting_items(limit=_setting("WORKDIST_BATCH", 200)):
        language = (item.language or settings.LANGUAGE_CODE).lower()
        eligible = [
            c for uid, c in candidates.items()
            if load[uid] < c.capacity and language in c.languages and (item.ticket_id, uid) not in refused
        ]
        if not eligible:
            continue
        # Round-robin: whoever was offered work longest ago (never first), then by id.
        chosen = min(eligible, key=lambda c: (last[c.user_id], c.user_id))
        offer = _offer_create(item, chosen, now)
        if offer is None:
            # Taken by a racing dispatcher, or the agent filled up / went away meanwhile.
            load[chosen.user_id] = selectors.agent_loads([chosen.user_id])[chosen.user_id]
            continue
        offered.append(offer.pk)
        load[chosen.user_id] += 1
        last[chosen.user_id] = now
        if all(load[uid] >= c.capacity for uid, c in candidates.items()):
            break
    return offered


def _offer_create(item: selectors.WaitingItem, agent: selectors.Candidate, now: datetime) -> Offer | None:
    try:
        with transaction.atomic():
            status = AgentStatus.objects.select_for_update().filter(user_id=agent.user_id).first()
            if status is None or not status.available:
                return None
            # Re-counted under the agent's lock: another dispatcher may have used the last slot.
            if selectors.agent_loads([agent.user_id])[agent.user_id] >= agent.capacity:
                return None
            offer = Offer.objects.create(
                ticket_id=item.ticket_id,
                chat_session_id=item.session_id,
                agent_id=agent.user_id,
                kind=item.kind,
                created_at=now,
                expires_at=now + timedelta(seconds=_setting("WORKDIST_OFFER_TTL_S", 30)),
            )
            status.last_offered_at = now
            status.save(update_fields=["last_offered_at"])
            ticket = Ticket.objects.only("reference", "subject", "language", "priority").get(pk=item.ticket_id)
            _send_to_agent(agent.user_id, "offer.created", offer_frame(offer, ticket))
            return offer
    except IntegrityError:
        # The partial unique index: another dispatcher offered this item first.
        return None


def workdist_dispatch_requested() -> None:
    """Work may have moved (a commit): have a distribution pass run soon, in the background.

    Coalesced: while a requested pass is still queued, further requests add nothing, so a burst
    of intakes costs one cache write each and one pass, not one pass each, and the pass's
    queries stay off the request path. The pass clears the flag before it looks, so a commit
    that lands after it looked queues the next one. Where jobs run in-process (the embedded
    default, tests) the pass runs at once. If the job cannot be queued, the periodic tick
    (every ``WORKDIST_TICK_S``) covers for it; while Redis is away the pass runs in the caller."""
    from contactcentre.ops.jobs import enqueue
    from contactcentre.records.resilient_cache import redis_available

    from .tasks import dispatch

    added = cache.add(DISPATCH_PENDING_KEY, 1, timeout=DISPATCH_PENDING_TTL_S)
    if not redis_available():
        # Redis (the cache and the job queue) is away: no queue to hand the pass to, and a
        # publish would only wait out its timeout on the request. Run it here, as the tick would.
        workdist_dispatch_safely()
        return
    if added and not enqueue(dispatch):
        cache.delete(DISPATCH_PENDING_KEY)


def workdist_dispatch_pending_clear() -> None:
    cache.delete(DISPATCH_PENDING_KEY)


def workdist_dispatch_safely() -> None:
    """Run a pass after commit, coalesced across processes: while one pass runs, further
    requests only ask it to go round once more. Errors are logged, never raised: the change
    that triggered us is committed, and the periodic tick catches up."""
    try:
        for _attempt in range(3):
            if not cache.add(DISPATCH_LOCK_KEY, 1, timeout=_setting("WORKDIST_DISPATCH_LOCK_S", 30)):
                cache.set(DISPATCH_AGAIN_KEY, 1, timeout=60)
                return
            try:
                for _round in range(3):
                    cache.delete(DISPATCH_AGAIN_KEY)
                    workdist_dispatch()
                    if not cache.get(DISPATCH_AGAIN_KEY):
                        break
            finally:
                cache.delete(DISPATCH_LOCK_KEY)
            # A request that came in between our last check and the release: go round again.
            if not cache.get(DISPATCH_AGAIN_KEY):
                return
    except Exception:  # noqa: BLE001 - distribution is best effort; the tick retries
        log.exception("work distribution pass failed")


def workdist_tick(*, now: datetime | None = None) -> DispatchResult:
    """The periodic pass (Celery beat, or the embedded thread): expiries and missed triggers;
    also notices agents whose console vanished without a goodbye (presence TTL)."""
    result = workdist_dispatch(now=now)
    agents_online_flush()
    return result


# --- offers ---------------------------------------------------------------------------------

def _locked_offer(offer_id: int, actor: Any) -> Offer:
    offer = Offer.objects.select_for_update().filter(pk=offer_id, agent_id=actor.pk).first()
    if offer is None:
        # Someone else's offer is none of this agent's business: same answer as a missing one.
        raise NotFound(f"Offer {offer_id} does not exist.")
    return offer


def offer_accept(*, offer_id: int, actor: Any, now: datetime | None = None) -> Offer:
    """Take the offered work: claims the ticket (or accepts the chat) under the offer's lock.

    Race-safe: two accepts of one offer serialise on its row; an accept racing another agent's
    direct claim loses cleanly (409) and the offer is withdrawn rather than left dangling."""
    _require_console_staff(actor)
    now = now or timezone.now()
    failure: DomainError | None = None
    with transaction.atomic():
        offer = _locked_offer(offer_id, actor)
        if offer.state != OFFERED:
            raise OfferNotOpen(f"This offer is no longer open (it was {offer.state}).")
        if offer.expires_at <= now:
            offer.state = Offer.State.EXPIRED
            failure = OfferNotOpen("This offer has expired.")
        else:
            try:
                # A savepoint: if the work was taken meanwhile, only the claim rolls back.
                with transaction.atomic():
                    if offer.kind == Offer.Kind.CHAT and offer.chat_session_id:
                        from contactcentre.intake.chat.services import chat_accept

                        chat_accept(session_id=offer.chat_session_id, actor=actor)
                    else:
                        from contactcentre.tickets.services import ticket_claim

                        ticket_claim(ticket_id=offer.ticket_id, actor=actor)
                offer.state = Offer.State.ACCEPTED
            except (ConflictError, NotFound) as exc:
                offer.state = Offer.State.WITHDRAWN
                failure = OfferNotOpen(f"The work was taken meanwhile: {exc.message}")
        offer.decided_at = now
        offer.save(update_fields=["state", "decided_at"])
        if failure is not None:
            _withdrawn(offer, offer.state)
        workdist_dispatch_on_commit()
    if failure is not None:
        # Raised after commit, so the offer's end is recorded while the caller gets a 409.
        raise failure
    return offer


def offer_decline(*, offer_id: int, actor: Any, now: datetime | None = None) -> Offer:
    _require_console_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked_offer(offer_id, actor)
        if offer.state != OFFERED:
            raise OfferNotOpen(f"This offer is no longer open (it was {offer.state}).")
        offer.state = Offer.State.DECLINED
        offer.decided_at = now
        offer.save(update_fields=["state", "decided_at"])
        # The agent's other tabs drop it too.
        _withdrawn(offer, "declined")
        workdist_dispatch_on_commit()
    return offer


# --- availability and agents online -----------------------------------------------------------

def agent_seen(*, user: Any) -> AgentStatus:
    """A console socket opened: make sure the agent has a status row (the dispatcher locks it)."""
    now = timezone.now()
    status, created = AgentStatus.objects.get_or_create(user=user, defaults={"last_seen": now, "updated_at": now})
    if not created:
        AgentStatus.objects.filter(pk=status.pk).update(last_seen=now)
    return status


def agent_availability_set(*, actor: Any, available: bool) -> AgentStatus:
    _require_console_staff(actor)
    with transaction.atomic():
        status, _ = AgentStatus.objects.get_or_create(user=actor)
        status = AgentStatus.objects.select_for_update().get(pk=status.pk)
        if status.available != available:
            status.available = available
            status.updated_at = timezone.now()
            status.save(update_fields=["available", "updated_at"])
            # Ready: offer at once. Away: the pass withdraws their open offers and moves them on.
            workdist_dispatch_on_commit()
            transaction.on_commit(agents_online_changed)
    return status


def agents_online_changed() -> None:
    """Tell staff who is online now (sync callers: after a distribution pass or an availability
    change, so one pass is one frame at most). Sockets coming and going are coalesced in the
    consumer instead (``agents_online_pending``), where reconnect bursts happen."""
    if presence.agents_online():  # nobody with the console open: nobody to tell
        agents_online_flush()


def agents_online_pending() -> bool:
    """Claim the one pending flush of a burst (cluster-wide, through the cache): True for the
    caller that should flush after the coalescing window, False when one is already due."""
    window = float(_setting("WORKDIST_ONLINE_COALESCE_S", 0.5))
    return bool(cache.add(ONLINE_PENDING_KEY, 1, timeout=max(5, int(window * 10))))


def agents_online_flush() -> bool:
    """Broadcast ``agents.online`` to staff if the list differs from the last one sent."""
    cache.delete(ONLINE_PENDING_KEY)
    try:
        as_of = time.time()
        agents = selectors.agents_online_list()
        digest = hashlib.sha256(json.dumps(agents, sort_keys=True).encode()).hexdigest()
        if cache.get(ONLINE_LAST_KEY) == digest:
            return False
        cache.set(ONLINE_LAST_KEY, digest, timeout=3600)
        frame = {"type": "agents.online", "agents": agents, "as_of": as_of, "ts": timezone.now().isoformat()}
        return events.broadcast([events.STAFF_GROUP], frame)
    except Exception:  # noqa: BLE001 - a presence frame is never worth an error to anyone
        log.warning("agents.online broadcast failed", exc_info=True)
        return False


# --- canned replies ---------------------------------------------------------------------------

NEUTRAL_NAME = {"sv": "där", "en": "there", "fi": ""}


def canned_reply_render(reply: CannedReply, *, ticket: Ticket) -> str:
    """Fill ``{name}`` and ``{reference}``. Plain replacement, never ``str.format``: a brace
    typed by a supervisor must not raise, nor reach attributes (``{name.__class__}``)."""
    name = (ticket.contact.name.strip() if ticket.contact_id and ticket.contact else "") or NEUTRAL_NAME.get(
        ticket.language, ""
    )
    body = reply.body.replace("{name}", name).replace("{reference}", ticket.reference)
    if not name:
        # "Hei {name}," without a name reads "Hei," not "Hei ,".
        body = body.replace(" ,", ",").replace(" !", "!").replace("  ", " ")
    return body


@dataclass(frozen=True, slots=True)
class CannedReplyData:
    title: str
    body: str
    language: str
    department_code: str | None
    active: bool = True


def _department(code: str | None) -> Department | None:
    if not code:
        return None
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise DomainError(f"Unknown department '{code}'.", code="invalid_department")
    return department


def canned_reply_create(*, actor: Any, data: CannedReplyData) -> CannedReply:
    _require_supervisor(actor)
    now = timezone.now()
    return CannedReply.objects.create(
        title=data.title, body=data.body, language=data.language, department=_department(data.department_code),
        active=data.active, created_at=now, updated_at=now,
    )


@transaction.atomic
def canned_reply_update(*, actor: Any, reply_id: int, changes: dict[str, Any]) -> CannedReply:
    _require_supervisor(actor)
    reply = CannedReply.objects.select_for_update().filter(pk=reply_id).first()
    if reply is None:
        raise NotFound(f"Canned reply {reply_id} does not exist.")
    fields = []
    for name in ("title", "body", "language", "active"):
        if name in changes:
            setattr(reply, name, changes[name])
            fields.append(name)
    if "department" in changes:
        reply.department = _department(changes["department"])
        fields.append("department")
    reply.updated_at = timezone.now()
    reply.save(update_fields=[*fields, "updated_at"])
    return reply


def canned_reply_delete(*, actor: Any, reply_id: int) -> None:
    _require_supervisor(actor)
    deleted, _ = CannedReply.objects.filter(pk=reply_id).delete()
    if not deleted:
        raise NotFound(f"Canned reply {reply_id} does not exist.")
