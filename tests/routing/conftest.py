from __future__ import annotations

import os
from pathlib import Path

import pytest

from routing.dataset import read_articles, read_departments
from routing.engine import RoutingModel

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "knowledge" / "demo"
# The labelled development split lives beside the repository (../shared/routing-dev) in the
# project's workspace and in CI; ROUTING_DEV_DIR points elsewhere.
DEV = Path(os.environ.get("ROUTING_DEV_DIR", REPO.parent / "shared" / "routing-dev"))


def require_dev_set() -> None:
    assert (DEV / "enquiries.jsonl").exists(), f"routing dev set not found at {DEV} (set ROUTING_DEV_DIR)"


@pytest.fixture(scope="session")
def demo_model() -> RoutingModel:
    departments = read_departments(DEMO / "departments.yaml")
    return RoutingModel(departments=departments, articles=read_articles(DEMO, {d.code for d in departments}))
