"""The hello's online list is shared by concurrent connects (frontend/workdist_consumers.py), but
never older than the connect asking for it."""

from __future__ import annotations

import asyncio

import pytest

from frontend.workdist_consumers import _SharedFreshRun

pytestmark = pytest.mark.asyncio


async def test_concurrent_callers_share_runs_that_started_after_they_called() -> None:
    state = {"version": 0, "runs": 0}

    async def snapshot() -> int:
        state["runs"] += 1
        seen = state["version"]
        await asyncio.sleep(0.02)
        return seen

    shared = _SharedFreshRun(snapshot)

    async def caller() -> tuple[int, int]:
        state["version"] += 1  # this caller's own change (its presence), made before it asks
        mine = state["version"]
        return mine, await shared()

    results = await asyncio.gather(*(caller() for _ in range(50)))
    assert all(seen >= mine for mine, seen in results)
    assert state["runs"] <= 3  # not one run per caller
    assert await shared() == 50 and state["runs"] <= 4
