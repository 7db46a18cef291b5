"""Telephony formats in, one ``CallEventData`` out: our own CTI JSON and Twilio's status callbacks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from .models import CallSession
from .services import ANSWERED, ENDED, MISSED, RINGING, VOICEMAIL, CallEventData


def cti_event_from(validated: Mapping[str, Any], *, raw: Mapping[str, Any]) -> CallEventData:
    """``validated`` comes from the event type's serializer (api/phone.py)."""
    return CallEventData(
        provider=CallSession.Provider.CTI,
        call_id=validated["call_id"],
        event=validated["event"],
        caller=validated.get("caller", ""),
        called=validated.get("called", ""),
        agent_username=validated.get("agent", ""),
        occurred_at=validated.get("occurred_at"),
        summary=validated.get("summary", ""),
        subject=validated.get("subject", ""),
        outcome=validated.get("outcome", ""),
        resolved_during_call=bool(validated.get("resolved_during_call", False)),
        ticket_reference=validated.get("ticket_reference", ""),
        recording_url=validated.get("recording_url", ""),
        transcript=validated.get("transcript", ""),
        duration_seconds=validated.get("duration_seconds"),
        payload=dict(raw),
    )


# Twilio CallStatus -> our event. "queued"/"initiated" say nothing a contact centre acts on.
_TWILIO_STATUS = {
    "ringing": RINGING,
    "in-progress": ANSWERED,
    "completed": ENDED,
    "busy": MISSED,
    "no-answer": MISSED,
    "failed": MISSED,
    "canceled": MISSED,
}
# Only these fields are kept in the audit payload (Twilio sends account ids and geography too).
_TWILIO_KEPT = ("CallSid", "CallStatus", "Direction", "From", "To", "CallDuration", "RecordingUrl",
                "RecordingStatus", "TranscriptionStatus", "Timestamp", "SequenceNumber")


def twilio_event_from(params: Mapping[str, str], *, agent_username: str = "") -> CallEventData | None:
    """Map a voice status (or recording/transcription) callback; None when there is nothing to do."""
    call_sid = (params.get("CallSid") or "").strip()
    direction = params.get("Direction") or "inbound"
    if not call_sid or not direction.startswith("inbound"):
        # Outbound legs are our own call-backs: their "no-answer" must not open another callback.
        return None
    recording = params.get("RecordingUrl") or ""
    transcript = params.get("TranscriptionText") or ""
    if transcript or (recording and params.get("RecordingStatus", "completed") == "completed"):
        event = VOICEMAIL
    else:
        event = _TWILIO_STATUS.get(params.get("CallStatus") or "")
        if event is None:
            return None
    duration = params.get("CallDuration") or params.get("RecordingDuration") or ""
    return CallEventData(
        provider=CallSession.Provider.TWILIO,
        call_id=f"twilio:{call_sid}",
        event=event,
        caller=params.get("From") or params.get("Caller") or "",
        called=params.get("To") or params.get("Called") or "",
        agent_username=agent_username,
        recording_url=recording,
        transcript=transcript,
        duration_seconds=int(duration) if duration.isdigit() else None,
        occurred_at=_twilio_time(params.get("Timestamp") or ""),
        payload={k: params[k] for k in _TWILIO_KEPT if k in params},
    )


def _twilio_time(value: str) -> datetime | None:
    # Twilio's Timestamp is RFC 2822 ("Tue, 03 Mar 2026 09:15:02 +0000"); absent on some callbacks.
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
