"""Open the configured quarantine store: PostgreSQL when a DSN is given, else SQLite."""

from __future__ import annotations

from dlp_gateway.config.schema import Config
from dlp_gateway.ports import QuarantineStore


async def open_store(config: Config) -> QuarantineStore:
    if config.quarantine.dsn:
        from dlp_gateway.quarantine.postgres import PostgresStore  # noqa: PLC0415 - asyncpg only when used

        return await PostgresStore.connect(config.quarantine.dsn, config.quarantine.schema)
    from dlp_gateway.quarantine.sqlite import SqliteStore  # noqa: PLC0415

    return SqliteStore(config.quarantine.path)
