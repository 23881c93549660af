from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import RULES, Sink
from tests.postgres import throwaway_schema

# Modules whose every test needs a service, a browser or processes (see pyproject's markers).
_MODULE_MARKS = {
    "test_postfix": "postfix",
    "test_console_browser": "browser",
    "test_two_instances": "postgres",
    "test_cli": "slow",
    "test_scanner": "slow",
    "test_observability": "slow",
    "test_durability": "slow",
    "test_worker_pool": "slow",
    "test_tls": "slow",
    "test_chunk": "slow",
    "test_e2e_actions": "slow",
    "test_delivery_service": "slow",
    "test_deploy": "slow",
    "test_ruletest": "slow",
    "test_mime_differential": "slow",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from where a test lives and what it uses: a PostgreSQL store or schema marks it."""
    for item in items:
        if item.path.stem in _MODULE_MARKS:
            item.add_marker(_MODULE_MARKS[item.path.stem])
        params = getattr(item, "callspec", None)
        if "pg_schema" in getattr(item, "fixturenames", ()) or (params and params.params.get("store") == "postgres"):
            item.add_marker("postgres")


@pytest.fixture(autouse=True)
def own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own scratch directory: a relative `var/…` in the example
    configuration lands there, never in the checkout's var/ (which `./dev serve` fills)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the example site in a scratch directory (its var/ lands there)."""
    shutil.copytree(RULES, tmp_path / "rules")
    return tmp_path


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A PostgreSQL schema of its own, dropped afterwards (tests/postgres.py)."""
    async with throwaway_schema() as schema:
        yield schema


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = Sink()
    await s.start()
    yield s
    await s.stop()
