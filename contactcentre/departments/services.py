"""Department services: escalation notices (e-mail and signed webhooks), the return to the
contact centre, and the department systems' API keys and answers.

Side effects leave only after commit: the escalating transaction writes the webhook outbox rows
and schedules the mail and the first delivery attempt on commit; a rolled-back escalation
notifies no one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from prometheus_client import Counter

from contactcentre.tickets import events
from contactcentre.tickets.errors import DomainError, NotFound, NotPermitted, TransitionNotAllowed
from contactcentre.tickets.models import Department, Message, Ticket
from contactcentre.tickets.selectors import ticket_scope

# The ticket domain's own guard/lock/audit helpers: a department action is a ticket action and
# must lock, audit and version the row exactly as the ticket services do.
from contactcentre.tickets.services import (
    _add_message,
    _audit,
    _locked,
    _set_status,
    _touch,
    ticket_reply,
)

from .models import ESCALATED_EVENT, DepartmentApiKey, DepartmentWebhook, WebhookDelivery
from .netguard import Destination, UnsafeDestination, destination_check
from .signing import webhook_signature

log = logging.getLogger(__name__)
User = get_user_model()
Status = Ticket.Status

def attempt_lease() -> timedelta:
    """While an attempt runs, the row's next_attempt_at is pushed this far ahead (longer than any
    request can take), so a concurrent worker skips it; a worker killed mid-post leaves the row
    to the sweep once it runs out, and the retry carries the same delivery id."""
    return timedelta(seconds=settings.DEPARTMENT_WEBHOOK_LEASE_S)


WEBHOOKS_FAILED = Counter("cc_webhook_deliveries_failed_total", "Webhook deliveries given up on (capped retries)")
MAX_MESSAGES_IN_PAYLOAD = 50


def department_ticket_url(ticket: Ticket) -> str:
    return settings.PUBLIC_BASE_URL + reverse("frontend:department-ticket", args=[ticket.reference])


# --- escalation notices ------------------------------------------------------------------------

def department_escalation_notify_on_commit(ticket: Ticket) -> None:
    """Tell the department about a ticket just escalated to it. Call inside the escalating
    transaction: the webhook outbox rows are written with it, mail and posts leave after commit."""
    if ticket.status != Status.ESCALATED or not ticket.department_id:
        return
    hooks = [h for h in DepartmentWebhook.objects.filter(department_id=ticket.department_id, active=True)
             if ESCALATED_EVENT in (h.events or [])]
    delivery_ids: list[str] = []
    if hooks:
        payload = escalation_payload(ticket)
        for hook in hooks:
            delivery = WebhookDelivery.objects.create(webhook=hook, event=ESCALATED_EVENT, ticket=ticket, payload={})
            # The delivery id is the receiver's idempotency key, so it goes into the signed body.
            delivery.payload = {"id": str(delivery.pk), **payload}
            delivery.save(update_fields=["payload"])
            delivery_ids.append(str(delivery.pk))
    department_id = ticket.department_id
    ticket_id = ticket.pk

    def _enqueue() -> None:
        from contactcentre.ops.jobs import enqueue

        from .tasks import escalation_email_task, webhook_deliver_task

        enqueue(escalation_email_task, ticket_id, department_id)
        for delivery_id in delivery_ids:
            enqueue(webhook_deliver_task, delivery_id)  # the outbox sweep retries what fails here

    transaction.on_commit(_enqueue, robust=True)


def escalation_email_send(*, ticket_id: int, department_id: int) -> int:
    """One mail per caseworker of the department, with a link to the ticket. Returns the count.

    The mail carries no message text: the conversation stays behind the login, out of mailboxes.
    """
    ticket = Ticket.objects.select_related("department").filter(pk=ticket_id).first()
    if ticket is None or ticket.department_id != department_id or ticket.escalated_at is None:
        return 0  # returned or moved on before the mail went out: the new holder gets its own
    recipients = list(
        User.objects.filter(role="caseworker", department_id=department_id, is_active=True)
        .exclude(email="").values_list("email", flat=True)
    )
    if not recipients:
        return 0
    with translation.override("sv"):
        subject = _("Nytt ärende till %(department)s: %(subject)s [%(reference)s]") % {
            "department": ticket.department.name, "subject": ticket.subject[:120], "reference": ticket.reference}
        body = _(
            "Ett ärende har lämnats över till %(department)s.\n\n"
            "Ärende: %(reference)s\nRubrik: %(subject)s\nPrioritet: %(priority)s\nKanal: %(channel)s\n\n"
            "Öppna ärendet: %(url)s\n\n"
            "Du får detta meddelande eftersom du är handläggare på %(department)s."
        ) % {
            "department": ticket.department.name, "reference": ticket.reference, "subject": ticket.subject,
            "priority": ticket.get_priority_display(), "channel": ticket.get_channel_display(),
            "url": department_ticket_url(ticket),
        }
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    # One message each: caseworkers never see each other's addresses.
    mails = [EmailMessage(subject=subject.replace("\n", " "), body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                          to=[address], headers=headers) for address in recipients]
    get_connection().send_messages(mails)
    return len(mails)


def escalation_payload(ticket: Ticket) -> dict[str, Any]:
    contact = ticket.contact
    messages = list(
        ticket.messages.order_by("-created_at", "-id")
        .values("id", "direction", "channel", "sender", "body_text", "created_at")[:MAX_MESSAGES_IN_PAYLOAD]
    )
    messages.reverse()
    return {
        "event": ESCALATED_EVENT,
        "created_at": timezone.now().isoformat(),
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "status": ticket.status,
            "channel": ticket.channel,
            "priority": ticket.priority,
            "language": ticket.language,
            "category": ticket.category,
            "is_complaint": ticket.is_complaint,
            "department": ticket.department.code if ticket.department_id else None,
            "created_at": ticket.created_at.isoformat(),
            "escalated_at": ticket.escalated_at.isoformat() if ticket.escalated_at else None,
            "department_due_at": ticket.department_due_at.isoformat() if ticket.department_due_at else None,
            "contact": {
                "name": contact.name,
                "emails": list(contact.emails.values_list("address", flat=True)),
                "phones": list(contact.phones.values_list("number", flat=True)),
            } if contact else None,
            "messages": [
                {**m, "created_at": m["created_at"].isoformat()} for m in messages
            ],
        },
        "links": {
            "workspace": department_ticket_url(ticket),
            "answer": settings.PUBLIC_BASE_URL + reverse("api:department-ticket-answer", args=[ticket.reference]),
        },
    }


# --- webhook delivery --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AttemptResult:
    outcome: str  # "delivered" | "retry" | "failed" | "skipped"
    status_code: int | None = None
    error: str = ""
    next_attempt_at: datetime | None = None


def webhook_backoff(attempts: int) -> timedelta:
    """Exponential with jitter: base, 2*base, 4*base ... capped; jitter spreads a burst of
    deliveries that failed together (the receiver was down) so they do not return together."""
    base = settings.DEPARTMENT_WEBHOOK_BACKOFF_S * (2 ** max(attempts - 1, 0))
    delay = min(base, settings.DEPARTMENT_WEBHOOK_BACKOFF_MAX_S)
    return timedelta(seconds=delay * random.uniform(0.8, 1.0))


def _delivery_claim(delivery_id: str, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING or delivery.next_attempt_at > now:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + attempt_lease()
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    delivery.webhook = DepartmentWebhook.objects.get(pk=delivery.webhook_id)
    return delivery


def _post(destination: Destination, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST to the vetted address, never following a redirect (it could point inside)."""
    default_port = 443 if destination.scheme == "https" else 80
    host_header = destination.host if destination.port == default_port else f"{destination.host}:{destination.port}"
    pool_timeout = urllib3.Timeout(connect=timeout, read=timeout)
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        # Connect to the pinned IP, but verify the certificate for the name in the URL.
        pool = urllib3.HTTPSConnectionPool(destination.address, destination.port, timeout=pool_timeout,
                                           retries=False, server_hostname=destination.host,
                                           assert_hostname=destination.host, cert_reqs="CERT_REQUIRED")
    else:
        pool = urllib3.HTTPConnectionPool(destination.address, destination.port, timeout=pool_timeout, retries=False)
    try:
        response = pool.urlopen("POST", destination.path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, retries=False, preload_content=False)
        try:
            response.read(8192, decode_content=False)  # drain a little; the body is not used
        finally:
            response.release_conn()
        return int(response.status)
    finally:
        pool.close()


def webhook_delivery_attempt(*, delivery_id: str, now: datetime | None = None) -> AttemptResult:
    """One attempt at one delivery; records the outcome and when to try again."""
    now = now or timezone.now()
    delivery = _delivery_claim(delivery_id, now)
    if delivery is None:
        return AttemptResult("skipped")
    hook = delivery.webhook
    status_code: int | None = None
    permanent = False
    try:
        if not hook.active:
            permanent = True
            raise UnsafeDestination("the webhook was disabled")
        destination = destination_check(hook.url, allow_loopback=settings.DEPARTMENT_WEBHOOK_ALLOW_LOOPBACK_FOR_TESTS)
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "contactcentre-webhooks/1",
            "X-CC-Event": delivery.event,
            # The idempotency key: a retry (after a timeout, or a worker killed mid-post) carries
            # the same one, so the receiver can tell a duplicate from a new escalation.
            "X-CC-Delivery": str(delivery.pk),
            "Idempotency-Key": str(delivery.pk),
            "X-CC-Timestamp": timestamp,
            "X-CC-Signature": webhook_signature(secret=hook.secret, timestamp=timestamp, body=body),
        }
        status_code = _post(destination, body=body, headers=headers, timeout=settings.DEPARTMENT_WEBHOOK_TIMEOUT_S)
        error = "" if 200 <= status_code < 300 else f"HTTP {status_code}"
    except UnsafeDestination as exc:
        permanent = True
        error = f"refused: {exc}"
    except Exception as exc:  # noqa: BLE001 - every transport fault is recorded and retried
        error = f"{type(exc).__name__}: {exc}"[:1000]
    return _delivery_record(delivery, status_code=status_code, error=error, permanent=permanent, now=now)


def _delivery_record(delivery: WebhookDelivery, *, status_code: int | None, error: str, permanent: bool,
                     now: datetime) -> AttemptResult:
    fields = ["status", "last_status_code", "last_error", "next_attempt_at", "delivered_at"]
    delivery.last_status_code = status_code
    delivery.last_error = error
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.save(update_fields=fields)
        return AttemptResult("delivered", status_code=status_code)
    if permanent or delivery.attempts >= settings.DEPARTMENT_WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=fields)
        WEBHOOKS_FAILED.inc()
        log.error("webhook delivery %s to %s failed for good after %d attempts: %s", delivery.pk,
                  delivery.webhook.url, delivery.attempts, error)
        return AttemptResult("failed", status_code=status_code, error=error)
    delivery.next_attempt_at = now + webhook_backoff(delivery.attempts)
    delivery.save(update_fields=fields)
    return AttemptResult("retry", status_code=status_code, error=error, next_attempt_at=delivery.next_attempt_at)


def webhook_deliveries_due(*, now: datetime | None = None, limit: int = 200) -> list[str]:
    now = now or timezone.now()
    return [str(pk) for pk in WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]]


# --- the department hands a ticket back ---------------------------------------------------------

@transaction.atomic
def ticket_return_to_contact_centre(*, ticket_id: int, actor: Any, note: str) -> Ticket:
    """The department gives the ticket back (not theirs, or the contact centre should answer).

    Escalated/waiting/open -> open, unassigned, with the caseworker's note. The department is
    kept (it stays the subject the ticket is about and feeds routing statistics; the agent can
    re-escalate elsewhere); ``escalated_at`` is cleared, because it is what gives the department
    access: after the hand-back the caseworkers no longer see the ticket.
    """
    note = (note or "").strip()
    if not note:
        raise DomainError("Write a note for the contact centre.", code="empty")
    ticket = _locked(ticket_id)
    if actor is None or not getattr(actor, "is_staff_member", False):
        raise NotPermitted("Only staff may do this.")
    if ticket.escalated_at is None or not ticket.department_id:
        raise TransitionNotAllowed(ticket.status, Status.OPEN, action="return")
    if not actor.sees_all_departments and ticket.department_id != actor.department_id:
        raise NotFound(f"Ticket {ticket.pk} does not exist.")
    if ticket.status not in (Status.ESCALATED, Status.WAITING, Status.OPEN):
        raise TransitionNotAllowed(ticket.status, Status.OPEN, action="return")
    fields = _set_status(ticket, Status.OPEN, actor=actor, action="return")
    if ticket.assignee_id:
        _audit(ticket, actor=actor, kind="assignee", from_value=ticket.assignee.get_username(), to_value="")
    ticket.assignee = None
    _add_message(ticket, direction=Message.Direction.NOTE, actor=actor, body_text=note, channel="internal")
    _audit(ticket, actor=actor, kind="returned", from_value=ticket.department.code, to_value="contact_centre")
    _touch(ticket, [*fields, "assignee"])
    # Emitted while escalated_at is still set, so the frame (and the resync log) reaches the
    # department's group too and their screens drop the ticket.
    events.emit_ticket_event("ticket.updated", ticket, change="returned")
    ticket.escalated_at = None
    ticket.save(update_fields=["escalated_at"])
    return ticket


# --- department systems: API keys and answers ----------------------------------------------------

KEY_PREFIX = "dk_"


def _key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def department_api_key_create(*, department: Department, name: str) -> tuple[DepartmentApiKey, str]:
    """Create a key for a department's system; the raw key is returned once and never stored."""
    username = f"system-{department.code}"[:150]
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"role": "caseworker", "department": department, "first_name": department.name,
                  "last_name": _("(ärendesystem)")},
    )
    if created:
        user.set_unusable_password()  # an integration account never signs in to the web UI
        user.save(update_fields=["password"])
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = DepartmentApiKey.objects.create(department=department, name=name, prefix=prefix,
                                          key_hash=_key_hash(raw), user=user)
    return key, raw


def department_api_key_authenticate(raw: str) -> DepartmentApiKey | None:
    if not raw.startswith(KEY_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(KEY_PREFIX):].split("_", 1)[0]
    key = (DepartmentApiKey.objects.select_related("user", "department", "user__department")
           .filter(prefix=prefix, active=True, department__is_active=True).first())
    if key is None or not hmac.compare_digest(key.key_hash, _key_hash(raw)) or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=5):
        # Coarse on purpose: not a write per request.
        DepartmentApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


@transaction.atomic
def department_ticket_answer(
    *, key: DepartmentApiKey, reference: str, body: str, status_after: str | None = None, answer_id: str = ""
) -> tuple[Message, bool]:
    """A department's system answers the resident: through the ticket's own channel, as the
    department's integration account. ``answer_id`` makes a retried call harmless.
    Returns (message, created)."""
    ticket = ticket_scope(key.user).filter(reference=reference.strip().upper()).first()
    if ticket is None:
        raise NotFound(f"Ticket {reference} does not exist.")
    # The lock orders two deliveries of the same answer: the second sees the first's message.
    _locked(ticket.pk)
    if answer_id:
        existing = Message.objects.filter(ticket=ticket, meta__department_answer_id=answer_id).first()
        if existing is not None:
            return existing, False
    meta = {"via": "department_api", "api_key": key.prefix}
    if answer_id:
        meta["department_answer_id"] = answer_id
    message = ticket_reply(ticket_id=ticket.pk, actor=key.user, body=body, status_after=status_after, meta=meta)
    return message, True
