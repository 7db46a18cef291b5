"""Closing a member of staff's websockets: a frame to their per-user group after commit."""

from __future__ import annotations

from django.db import transaction

from contactcentre.tickets.events import user_group

# The consumer's handler (``auth_revoked``) closes the socket with this code.
CLOSE_CODE_REVOKED = 4401


def revoke_user_sockets(user_id: int, *, reason: str) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    def _send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(user_group(user_id), {"type": "auth.revoked", "reason": reason})
        except Exception:  # noqa: BLE001, S110 - the session/token is already invalid; sockets also re-check on every resync
            pass

    transaction.on_commit(_send)
