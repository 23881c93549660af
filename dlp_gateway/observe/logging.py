"""One JSON line per message: reference id, verdict, rules, counts, timings — no customer data."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

log = logging.getLogger("dlp_gateway.message")


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiosmtpd logs every command, addresses included, at INFO: keep it to warnings and errors.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # PDFium's bindings warn about malformed PDFs they read anyway; the outcome is in the report.
    logging.getLogger("pypdfium2").setLevel(logging.ERROR)


def message_line(**fields: Any) -> None:
    log.info(json.dumps({"event": "message", **fields}, ensure_ascii=False, sort_keys=True))
