from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contactcentre.intake.chat import presence
from contactcentre.workdist.models import AgentStatus
from tests.factories import UserFactory


def make_ready(user: Any, *, available: bool = True) -> Any:
    """The agent has the console open (a presence entry) and, by default, said "ready"."""
    presence.agent_presence_touch(channel_name=f"test.{user.pk}", user_id=user.pk)
    AgentStatus.objects.update_or_create(user=user, defaults={"available": available})
    return user


@pytest.fixture
def ready_agent(db) -> Callable[..., Any]:
    def make(username: str, *, languages: list[str] | None = None, capacity: int = 2, **kwargs: Any) -> Any:
        user = UserFactory(username=username, role="agent", languages=languages or ["sv"], capacity=capacity, **kwargs)
        return make_ready(user)

    return make


@pytest.fixture(autouse=True)
def _fresh_commitment_policies() -> None:
    # The commitments service caches policies per process for a while; a transactional test's
    # flush deletes the rows behind that cache (seen 2026: claims failing on a stale policy id).
    try:
        from contactcentre.commitments.services import policies_changed
    except ImportError:
        return
    policies_changed()
