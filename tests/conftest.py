from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.helpers import RULES, Sink


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
async def sink() -> AsyncIterator[Sink]:
    s = Sink()
    await s.start()
    yield s
    await s.stop()
