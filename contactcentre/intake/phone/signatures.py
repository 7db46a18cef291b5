"""Webhook signatures: our own CTI scheme (HMAC-SHA256) and Twilio's, with the vendor's library.

Pure functions; the clock is passed in so tests can move it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from twilio.request_validator import RequestValidator, get_signature_algorithm

SIGNATURE_PREFIX = "sha256="


class SignatureError(Exception):
    """The request cannot be shown to come from the platform; it must not be processed."""


def cti_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The value the platform sends in ``X-CC-Signature``: HMAC-SHA256 over ``timestamp + "." + body``.

    Signing the timestamp with the body means an old delivery cannot be given a fresh timestamp.
    """
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def cti_signature_verify(
    *, secrets: list[str], timestamp: str, signature: str, body: bytes, now: float, tolerance_s: int
) -> None:
    """Raise SignatureError unless one of ``secrets`` signed this body within the replay window."""
    if not timestamp or not signature:
        raise SignatureError("missing signature headers")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("malformed timestamp")
    # Both directions: a timestamp from the future is as suspect as an old one.
    if abs(now - int(timestamp)) > tolerance_s:
        raise SignatureError("timestamp outside the replay window")
    offered = signature.strip()
    # compare_digest on every secret (rotation) and no early exit: the time taken says nothing.
    matches = [hmac.compare_digest(cti_signature(secret=s, timestamp=timestamp, body=body), offered)
               for s in secrets if s]
    if not any(matches):
        raise SignatureError("signature mismatch")


def twilio_signature_verify(
    *, auth_token: str, url: str, params: Mapping[str, Any], signature: str, settings_header: str = ""
) -> None:
    """Twilio signs the full URL it called plus the sorted form fields (its library's algorithm)."""
    if not auth_token:
        raise SignatureError("Twilio is not configured")
    if not signature:
        raise SignatureError("missing X-Twilio-Signature")
    validator = RequestValidator(auth_token)
    if not validator.validate(url, params, signature, algorithm=get_signature_algorithm(settings_header)):
        raise SignatureError("signature mismatch")
