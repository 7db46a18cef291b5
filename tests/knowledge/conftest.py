from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.services import knowledge_import
from routing.services import routing_model_reset

DEMO = Path(__file__).resolve().parents[2] / "knowledge" / "demo"


@pytest.fixture
def demo_kb(db):  # type: ignore[no-untyped-def]
    routing_model_reset()
    result = knowledge_import(directory=DEMO)
    yield result
    routing_model_reset()
