"""The gateway as its operators run it: `dlp-gateway` in a real process (one command, or `serve`
on free ports), for the tests that go through the command line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, free_port


def cli(
    *args: str, cwd: Path | None = None, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "dlp_gateway", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


async def start_serve(
    site: Path, port: int, console_port: int | None = None, metrics_port: int | None = None, drain: bool = False
) -> asyncio.subprocess.Process:
    """`serve` in a subprocess on free ports, returned once it listens."""
    cfg = site / "rules" / "gateway.yaml"
    text = cfg.read_text(encoding="utf-8").replace("port: 10025", f"port: {port}")
    text = text.replace("port: 9125", f"port: {metrics_port or free_port()}")
    cfg.write_text(text.replace("port: 8025", f"port: {console_port or free_port()}"), encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dlp_gateway",
        "serve",
        "--config",
        "rules",
        cwd=site,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while True:  # "listening on" is logged once SMTP, metrics and the console all listen
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
        assert line, "serve exited before listening"
        if b"listening on" in line:
            break
    if drain:  # keep reading the log, or a busy gateway blocks on a full pipe
        _DRAINS.add(asyncio.get_running_loop().create_task(_drain(proc)))
    return proc


_DRAINS: set[asyncio.Task[None]] = set()


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass
