"""The routing model's version counter, shared by every process through the Django cache.

Bumping it tells each process to rebuild its in-memory index on its next decision; the cache
is the only coordination needed because a stale index is merely slightly out of date, not wrong.
"""

from __future__ import annotations

import time

from django.core.cache import cache

VERSION_KEY = "routing:model-version"


def routing_model_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = f"{time.time_ns()}"
        cache.add(VERSION_KEY, version, timeout=None)
        version = cache.get(VERSION_KEY, version)
    return str(version)


def routing_model_invalidate() -> str:
    version = f"{time.time_ns()}"
    cache.set(VERSION_KEY, version, timeout=None)
    return version
