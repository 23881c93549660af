"""TLS: STARTTLS for clients (required if configured, no plaintext injection across it) and
verified TLS to the upstream. Certificates come from a throwaway CA made with openssl."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP

from dlp_gateway.config.schema import InboundTls, SmtpPolicy, Upstream
from dlp_gateway.errors import RelayError
from dlp_gateway.smtp.relay import SmtpRelay
from dlp_gateway.smtp.server import Gateway
from tests.helpers import BRANCH_A, HEAD_OFFICE, Sink, make_message, start_gateway
from tests.processes import cli


@dataclasses.dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=dlp test CA",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n", encoding="ascii")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return Pki(d / "ca.pem", d / "server.pem", d / "server.key")


def server_context(pki: Pki) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki.cert, pki.key)
    return ctx


@pytest.fixture
async def tls_gateway(tmp_path: Path, sink: Sink, pki: Pki) -> AsyncIterator[Gateway]:
    gw = await start_gateway(tmp_path, sink, notices=None, tls=InboundTls(str(pki.cert), str(pki.key), require=True))
    yield gw
    await gw.stop(timeout=1)


async def test_starttls_is_required_and_verified_clients_get_through(
    tls_gateway: Gateway, sink: Sink, pki: Pki
) -> None:
    plain = aiosmtplib.SMTP(hostname="127.0.0.1", port=tls_gateway.port, start_tls=False, timeout=5)
    await plain.connect()
    with pytest.raises(aiosmtplib.SMTPResponseException) as info:
        await plain.sendmail(HEAD_OFFICE, [BRANCH_A], make_message("hi"))
    assert info.value.code == 530
    plain.close()
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1", port=tls_gateway.port, start_tls=True, cert_bundle=str(pki.ca), timeout=5
    )
    await client.connect()
    await client.sendmail(HEAD_OFFICE, [BRANCH_A], make_message("会議の件"))
    await client.quit()
    assert [r for _, r, _ in sink.received] == [(BRANCH_A,)]


async def test_commands_pipelined_before_tls_are_discarded(tls_gateway: Gateway, pki: Pki) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", tls_gateway.port)
    await reader.readline()
    writer.write(b"EHLO x\r\n")
    while (await reader.readline())[3:4] == b"-":
        pass
    writer.write(b"STARTTLS\r\nEHLO commandinjectiontester\r\n")  # CVE-2024-34083 probe
    assert (await reader.readline()).startswith(b"220")
    ctx = ssl.create_default_context(cafile=str(pki.ca))
    await writer.start_tls(ctx, server_hostname="localhost")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readline(), 1.0)  # the injected EHLO got no answer inside TLS
    writer.close()


async def tls_sink(pki: Pki) -> tuple[Sink, int]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    sink.server = await loop.create_server(
        lambda: SMTP(sink, hostname="localhost", tls_context=server_context(pki), require_starttls=True), "127.0.0.1", 0
    )
    return sink, sink.server.sockets[0].getsockname()[1]


async def test_upstream_tls_is_verified(pki: Pki) -> None:
    sink, port = await tls_sink(pki)
    try:
        good = SmtpRelay(Upstream("localhost", port, timeout=5, tls="starttls", ca_file=str(pki.ca)))
        await good.send(HEAD_OFFICE, [BRANCH_A], make_message("hi"))
        assert len(sink.received) == 1
        untrusted = SmtpRelay(Upstream("localhost", port, timeout=5, tls="starttls"))
        with pytest.raises(RelayError) as info:
            await untrusted.send(HEAD_OFFICE, [BRANCH_A], make_message("hi"))
        assert info.value.temporary  # the client keeps the mail and retries: nothing lost, nothing in clear
        plaintext = SmtpRelay(Upstream("localhost", port, timeout=5, tls="none"))
        with pytest.raises(RelayError):
            await plaintext.send(HEAD_OFFICE, [BRANCH_A], make_message("hi"))  # the upstream requires TLS
        assert len(sink.received) == 1
    finally:
        await sink.stop()


async def test_smtp_auth_over_tls_lets_a_client_outside_the_networks_relay(
    tmp_path: Path, sink: Sink, pki: Pki
) -> None:
    hashed = cli("hash-password", stdin="branch office password\n").stdout.strip()
    policy = dataclasses.replace(
        SmtpPolicy(), client_networks=(ipaddress.ip_network("10.0.0.0/8"),), auth_users={"branch": hashed}
    )
    gw = await start_gateway(tmp_path, sink, notices=None, smtp=policy, tls=InboundTls(str(pki.cert), str(pki.key)))
    try:

        async def client() -> aiosmtplib.SMTP:
            c = aiosmtplib.SMTP(hostname="127.0.0.1", port=gw.port, start_tls=True, cert_bundle=str(pki.ca), timeout=5)
            await c.connect()
            return c

        anonymous = await client()
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:  # loopback is outside 10.0.0.0/8
            await anonymous.sendmail(HEAD_OFFICE, [BRANCH_A], make_message("hi"))
        assert refused.value.code == 554
        anonymous.close()
        wrong = await client()
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await wrong.login("branch", "not the password")
        wrong.close()
        branch = await client()
        await branch.login("branch", "branch office password")
        await branch.sendmail(HEAD_OFFICE, [BRANCH_A], make_message("会議の件"))
        await branch.quit()
        assert [r for _, r, _ in sink.received] == [(BRANCH_A,)]
    finally:
        await gw.stop(timeout=1)


async def test_smtp_auth_failures_are_throttled_like_the_console_sign_in(tmp_path: Path, sink: Sink, pki: Pki) -> None:
    hashed = cli("hash-password", stdin="branch office password\n").stdout.strip()
    policy = dataclasses.replace(
        SmtpPolicy(), client_networks=(ipaddress.ip_network("10.0.0.0/8"),), auth_users={"branch": hashed}
    )
    gw = await start_gateway(tmp_path, sink, notices=None, smtp=policy, tls=InboundTls(str(pki.cert), str(pki.key)))
    try:

        async def login(user: str, password: str) -> bool:
            c = aiosmtplib.SMTP(hostname="127.0.0.1", port=gw.port, start_tls=True, cert_bundle=str(pki.ca), timeout=5)
            await c.connect()
            try:
                await c.login(user, password)
                return True
            except aiosmtplib.SMTPAuthenticationError:
                return False
            finally:
                c.close()

        assert not await login("nobody", "guess")  # an unknown user is refused like a wrong password
        for _ in range(5):
            assert not await login("branch", "not the password")
        assert not await login("branch", "branch office password")  # locked: five failures in 15 minutes
    finally:
        await gw.stop(timeout=1)
