"""Fixed-window counters in the shared cache (Redis in production, so all daphne processes
count together)."""

from __future__ import annotations

import time

from django.core.cache import cache


def rate_allow(*, key: str, limit: int, window_s: int) -> bool:
    """Count one hit; False once ``limit`` hits fell in the current window."""
    if limit <= 0:
        return True
    bucket = f"chat:rl:{key}:{int(time.time() // window_s)}"
    cache.add(bucket, 0, timeout=window_s + 5)
    try:
        count = cache.incr(bucket)
    except ValueError:
        # Expired between add and incr (locmem): start the window again.
        cache.set(bucket, 1, timeout=window_s + 5)
        count = 1
    return count <= limit
