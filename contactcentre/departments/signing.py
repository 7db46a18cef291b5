"""The signature on our webhooks (the same scheme as the CTI webhooks we receive).

``X-CC-Signature: sha256=<hex HMAC-SHA256 of "<X-CC-Timestamp>.<raw body>">``. Signing the
timestamp with the body lets the receiver refuse replays of old deliveries.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def webhook_signature_valid(*, secret: str, timestamp: str, body: bytes, signature: str, now: float,
                            tolerance_s: int = 300) -> bool:
    """What a receiver does (and what our tests do): constant-time compare, bounded clock skew."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(webhook_signature(secret=secret, timestamp=timestamp, body=body), signature)
