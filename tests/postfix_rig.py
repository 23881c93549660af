"""A private Postfix instance on loopback for integration tests (Debian's postfix package).

Each instance has its own config, queue and data directories under a throwaway directory, its own
ports, and logs to a file (there is no syslog here). The deploy/postfix/ snippets are read from the
repository and rendered with the test's ports, so the recipes the README documents are the ones the
tests run. Postfix is required: a machine without it fails these tests (.ci/run installs it).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT

POSTFIX = "/usr/sbin/postfix"
RECIPES = ROOT / "deploy" / "postfix"

# Postfix's internal services, unchrooted (the queue lives in a scratch directory).
INTERNAL_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def render(recipe: str, *, smtp: int, gateway: int, reinject: int = 0) -> str:
    """A deploy/postfix snippet with its documented ports (25, 10025, 10026) replaced by the test's."""
    text = (RECIPES / recipe).read_text(encoding="utf-8")
    text = text.replace(":10025", f":{gateway}").replace(":10026", f":{reinject}")
    return re.sub(r"^smtp(\s+)inet", f"127.0.0.1:{smtp} inet", text, flags=re.MULTILINE)


@dataclass
class Postfix:
    """One Postfix instance: `main` settings (appended last, so they win) and master.cf lines."""

    main: str
    master: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dlp-postfix-")))

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    def start(self) -> None:
        # The daemons run as the postfix user: every directory on the way must be traversable.
        self.root.chmod(0o755)
        for d in ("etc", "queue", "data"):
            (self.root / d).mkdir(exist_ok=True)
        shutil.chown(self.root / "data", "postfix")
        base = f"""\
compatibility_level = 3.6
queue_directory = {self.root}/queue
data_directory = {self.root}/data
maillog_file_prefixes = {self.root}
maillog_file = {self.root}/maillog
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = agency-mta.test
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
mynetworks = 127.0.0.0/8
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtp_host_lookup = native
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""
        (self.etc / "main.cf").write_text(base + self.main, encoding="utf-8")
        (self.etc / "master.cf").write_text(self.master + "\n" + INTERNAL_SERVICES, encoding="utf-8")
        done = subprocess.run([POSTFIX, "-c", str(self.etc), "start"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"postfix start failed: {done.stderr}\n{self.log()}")

    def stop(self) -> None:
        subprocess.run([POSTFIX, "-c", str(self.etc), "abort"], capture_output=True, check=False)
        pid_file = self.root / "queue" / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while pid_file.exists() and time.monotonic() < deadline:
            try:
                pid = int(pid_file.read_text().strip())
                Path(f"/proc/{pid}").stat()
            except (OSError, ValueError):
                break
            time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no maillog)"

    def queue_is_empty(self) -> bool:
        """No message left in Postfix's queues (incoming, active, deferred)."""
        return not any(
            p.is_file() for d in ("incoming", "active", "deferred") for p in (self.root / "queue" / d).rglob("*")
        )


async def wait_until(
    predicate: object, timeout: float = 20.0, what: str = "condition", pf: Postfix | None = None
) -> None:
    """Poll (letting the loop serve the gateway and sink) until `predicate()` holds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n" + (pf.log() if pf else ""))
        await asyncio.sleep(0.1)
