"""The PostgreSQL the tests use: 127.0.0.1:5432, database `test` (DLP_TEST_POSTGRES overrides the
DSN), a throwaway schema per test. Without the server these tests fail, never skip."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

import asyncpg

POSTGRES = os.environ.get("DLP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.asynccontextmanager
async def throwaway_schema() -> AsyncIterator[str]:
    schema = f"dlp_test_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(POSTGRES)
    await conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
