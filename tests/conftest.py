from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.helpers import Sink


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    s = Sink()
    await s.start()
    yield s
    await s.stop()
