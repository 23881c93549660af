"""The console over real HTTP on loopback: sign-in, sessions, CSRF, throttling, roles, API, audit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.console_rig import PASSWORD, ConsoleRig, held, start
from tests.helpers import BRANCH_A, SOMPO, Sink


@pytest.fixture
async def rig(tmp_path: Path, sink: Sink) -> AsyncIterator[ConsoleRig]:
    r = await start(tmp_path, sink)
    await held(r.store, "ref1", r.clock.ago(days=2))
    await held(r.store, "ref2", r.clock.ago(days=1))
    yield r
    await r.runner.cleanup()


def client() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies for an IP-address host (127.0.0.1), as browsers do
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": aiohttp.encode_basic_auth(user, password)}


async def login(s: aiohttp.ClientSession, url: str, user: str = "suzuki", password: str = PASSWORD) -> str:
    async with s.post(f"{url}/login", data={"user": user, "password": password}, allow_redirects=True) as r:
        assert r.status == 200, await r.text()
        page = await r.text()
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


async def test_every_page_needs_a_session(rig: ConsoleRig) -> None:
    async with client() as s:
        for path in ("/", "/queue", "/messages/ref1", "/audit", "/audit.csv", "/incident"):
            async with s.get(rig.url + path, allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/login", path
        async with s.get(rig.url + "/api/messages") as r:
            assert r.status == 401
        async with s.post(rig.url + "/messages/ref1/release", data={"csrf": "x"}, allow_redirects=False) as r:
            assert r.status == 303
    assert (await rig.store.get("ref1")).status == "held"


async def test_sign_in_sets_a_strict_httponly_cookie_and_security_headers(rig: ConsoleRig) -> None:
    async with client() as s:
        async with s.post(
            f"{rig.url}/login", data={"user": "suzuki", "password": PASSWORD}, allow_redirects=False
        ) as r:
            assert r.status == 303
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with s.get(rig.url + "/") as r:
            assert r.status == 200
            assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"
            assert "審査待ち" in await r.text()


async def test_wrong_password_unknown_or_disabled_user_are_refused_and_throttled(rig: ConsoleRig) -> None:
    async with client() as s:
        for user, password in (("suzuki", "wrong"), ("nobody", PASSWORD), ("gone", PASSWORD)):
            async with s.post(f"{rig.url}/login", data={"user": user, "password": password}) as r:
                assert r.status == 401
        for _ in range(4):
            async with s.post(f"{rig.url}/login", data={"user": "suzuki", "password": "wrong"}) as r:
                pass
        async with s.post(f"{rig.url}/login", data={"user": "suzuki", "password": PASSWORD}) as r:
            assert r.status == 429  # throttled, even with the right password
    failures = [e for e in await rig.store.audit() if e.action == "login_failed"]
    assert len(failures) == 5  # then throttled: no more attempts reach the password check


async def test_posts_need_the_csrf_token(rig: ConsoleRig, sink: Sink) -> None:
    async with client() as s:
        csrf = await login(s, rig.url)
        async with s.post(f"{rig.url}/messages/ref1/release", data={"reason": "x"}, allow_redirects=False) as r:
            assert r.status == 403
        async with s.post(
            f"{rig.url}/messages/ref1/release", data={"csrf": "forged", "reason": "x"}, allow_redirects=False
        ) as r:
            assert r.status == 403
        assert (await rig.store.get("ref1")).status == "held"
        async with s.post(
            f"{rig.url}/messages/ref1/release",
            data={"csrf": csrf, "reason": "checked", "strip": "1"},
            allow_redirects=False,
        ) as r:
            assert r.status == 303
    item = await rig.store.get("ref1")
    assert (item.status, item.reviewer, item.reason) == ("released", "suzuki", "checked")
    assert [rcpts for _, rcpts, _ in sink.received] == [(BRANCH_A,)]  # the violating insurer stripped


async def test_raw_view_and_decisions_are_audited_and_exported(rig: ConsoleRig) -> None:
    async with client() as s:
        csrf = await login(s, rig.url)
        async with s.get(f"{rig.url}/messages/ref2") as r:
            page = await r.text()
            assert "81******00" in page and "8100000000" not in page  # masked unless asked for the raw message
            assert "<th>Message-ID</th>" in page and "t1@mirai-hoken.example.jp" in page
        async with s.post(f"{rig.url}/messages/ref2/raw", data={"csrf": csrf}) as r:
            assert "Subject:" in await r.text()
        async with s.post(
            f"{rig.url}/messages/ref2/deny", data={"csrf": csrf, "reason": ""}, allow_redirects=False
        ) as r:
            assert r.status == 409 or "reason" in r.headers.get("Location", "")
        async with s.post(
            f"{rig.url}/messages/ref2/deny", data={"csrf": csrf, "reason": "他社顧客を含む"}, allow_redirects=False
        ) as r:
            assert r.status == 303
        async with s.get(f"{rig.url}/audit.csv") as r:
            text = (await r.read()).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "at,actor,action,ref,reason,details"
    assert any(",suzuki,view_raw,ref2," in line for line in lines)
    assert any(",suzuki,deny,ref2,他社顧客を含む," in line for line in lines)


async def test_a_long_list_shows_its_kept_records_and_counts_them_all(rig: ConsoleRig) -> None:
    await held(rig.store, "ref3", rig.clock.ago(minutes=5), rows=30, keep=5)
    async with client() as s:
        await login(s, rig.url)
        async with s.get(f"{rig.url}/messages/ref3?lang=en") as r:
            page = await r.text()
        async with s.get(f"{rig.url}/api/incident?ref=ref3", headers=basic("suzuki", PASSWORD)) as r:
            incident = await r.json()
    assert "Records (30)" in page and "Showing 5 of 30 records" in page
    assert "By underwriter: tokio 30" in page
    assert "cross_insurer (30)" in page  # the violation counts every record, not the five kept
    assert page.count("81******") == 5
    assert incident["本人の数 people"] == 30 and incident["messages"][0]["records"] == 30


async def test_queue_filters_paging_and_bulk(rig: ConsoleRig) -> None:
    async with client() as s:
        csrf = await login(s, rig.url)
        async with s.get(f"{rig.url}/queue?insurer=sompo&since={rig.clock.ago(days=1)[:10]}") as r:
            page = await r.text()
            assert "ref2" in page and "ref1" not in page
        async with s.post(
            f"{rig.url}/queue/bulk",
            data=[("csrf", csrf), ("action", "deny"), ("reason", "一括"), ("ref", "ref1"), ("ref", "ref2")],
        ) as r:
            assert "2 ok" in await r.text()
    assert {(await rig.store.get(x)).status for x in ("ref1", "ref2")} == {"denied"}


async def test_json_api_with_basic_auth_and_admin_only_reload(rig: ConsoleRig, sink: Sink) -> None:
    reviewer = basic("suzuki", PASSWORD)
    async with client() as s:
        async with s.get(f"{rig.url}/api/messages?status=held", headers=reviewer) as r:
            doc = await r.json()
            assert doc["total"] == 2 and [i["ref"] for i in doc["items"]] == ["ref1", "ref2"]
        async with s.get(f"{rig.url}/api/messages/ref1", headers=reviewer) as r:
            assert (await r.json())["report"]["verdict"] == "quarantine"
        async with s.post(f"{rig.url}/api/messages/ref1/release", json={"reason": "api"}, headers=reviewer) as r:
            assert r.status == 200 and (await r.json())["result"] == "ref1: released"
        async with s.post(f"{rig.url}/api/messages/ref1/release", json={}, headers=reviewer) as r:
            assert r.status == 409  # already released: never twice
        async with s.post(f"{rig.url}/api/admin/reload", headers=reviewer) as r:
            assert r.status == 403
        async with s.post(f"{rig.url}/api/admin/reload", headers=basic("admin", PASSWORD)) as r:
            assert (await r.json())["result"].startswith("configuration reloaded")
        async with s.get(f"{rig.url}/api/stats", headers=reviewer) as r:
            stats = await r.json()
            assert stats["held_now"] == 1 and dict(stats["top_rules"])["cross-insurer-bulk"] == 2
            assert dict(stats["insurers"]) == {"sompo": 2, "tokio": 2}
        async with s.get(f"{rig.url}/api/incident?ref=ref1", headers=reviewer) as r:
            report = await r.json()
            assert report["本人の数 people"] == 12 and "証券番号" in report["個人データの項目 data_items"]
            assert report["messages"][0]["affected_recipients"] == [SOMPO]
        async with s.get(f"{rig.url}/api/messages", headers=basic("suzuki", "wrong")) as r:
            assert r.status == 401
    assert rig.reloads == ["reload"]
    assert len(sink.received) == 1


async def test_a_message_older_than_every_window_still_counts_as_held(rig: ConsoleRig) -> None:
    """Dated from the rig's clock, not the calendar: a year-old held message is in the queue and
    in "held now", and outside the dashboard's 30-day chart."""
    await held(rig.store, "old1", rig.clock.ago(days=400))
    reviewer = basic("suzuki", PASSWORD)
    async with client() as s:
        async with s.get(f"{rig.url}/api/stats", headers=reviewer) as r:
            stats = await r.json()
        async with s.get(f"{rig.url}/api/messages?status=held", headers=reviewer) as r:
            queue = await r.json()
    assert stats["held_now"] == 3 and stats["oldest_held"] == rig.clock.ago(days=400)
    assert sum(sum(day.values()) for _, day in stats["per_day"]) == 2  # ref1 and ref2, not old1
    assert [i["ref"] for i in queue["items"]] == ["old1", "ref1", "ref2"]
