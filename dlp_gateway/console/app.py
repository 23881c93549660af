"""The review console and its JSON API (aiohttp, server-rendered Jinja2 pages, no JavaScript).

Every route but /login needs a session (or HTTP Basic credentials, for API clients); every form
post carries the session's CSRF token; raw message views, releases and denials are audited.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from dlp_gateway.config.schema import Console
from dlp_gateway.console.auth import Session, Sessions, verify
from dlp_gateway.console.charts import bars, stacked_days
from dlp_gateway.console.gate_pages import PUBLIC_PREFIXES, GatePages, Rejected
from dlp_gateway.console.i18n import texts
from dlp_gateway.console.views import PAGE, dashboard_stats, message_json, query_of, shown_headers
from dlp_gateway.errors import DlpError, NotFoundError, RelayError
from dlp_gateway.held import STATUSES, AuditEntry, HeldMessage, HeldVerdict
from dlp_gateway.passwords import Throttle
from dlp_gateway.ports import QuarantineStore, iso
from dlp_gateway.quarantine.export import audit_csv, incident_for
from dlp_gateway.quarantine.gates import Gates
from dlp_gateway.quarantine.incident import incident_csv, jst
from dlp_gateway.quarantine.review import Review

COOKIE = "dlp_session"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("session", Session)


class ConsoleApp:
    def __init__(
        self,
        store: QuarantineStore,
        review: Review,
        settings: Console,
        reload: Callable[[], Awaitable[str]] | None = None,
        on_reject: Rejected | None = None,
    ) -> None:
        self.store = store
        self.review = review
        self.settings = settings
        self.reload_hook = reload
        self.sessions = Sessions(settings.session_hours * 3600)
        self.throttle = Throttle()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["jst"] = jst
        self.gate_pages = GatePages(Gates(review), self.env, on_reject)

    # --- plumbing ------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.security, self.authenticate], client_max_size=1 << 20)
        r = app.router
        self.gate_pages.add_routes(r)
        r.add_get("/login", self.login_form)
        r.add_post("/login", self.login)
        r.add_post("/logout", self.logout)
        r.add_get("/", self.dashboard)
        r.add_get("/queue", self.queue)
        r.add_post("/queue/bulk", self.bulk)
        r.add_get("/messages/{ref}", self.message)
        r.add_post("/messages/{ref}/raw", self.raw)
        r.add_post("/messages/{ref}/release", self.release)
        r.add_post("/messages/{ref}/deny", self.deny)
        r.add_get("/audit", self.audit)
        r.add_get("/audit.csv", self.audit_csv)
        r.add_get("/incident", self.incident)
        r.add_get("/incident.csv", self.incident)
        r.add_post("/admin/reload", self.admin_reload)
        r.add_get("/api/messages", self.api_messages)
        r.add_get("/api/messages/{ref}", self.api_message)
        r.add_post("/api/messages/{ref}/release", self.release)
        r.add_post("/api/messages/{ref}/deny", self.deny)
        r.add_get("/api/audit", self.api_audit)
        r.add_get("/api/stats", self.api_stats)
        r.add_get("/api/incident", self.incident)
        r.add_post("/api/admin/reload", self.admin_reload)
        return app

    @web.middleware
    async def security(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.update(HEADERS)
        return response

    @web.middleware
    async def authenticate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/login" or request.path.startswith(PUBLIC_PREFIXES):
            return await handler(request)  # gate pages: the secret in the link is the credential
        session, via_basic = self.sessions.get(request.cookies.get(COOKIE)), False
        if session is None:
            session = await self._basic(request)
            via_basic = session is not None
        if session is None:
            if request.path.startswith("/api/"):
                return web.json_response({"error": "authentication required"}, status=401)
            raise web.HTTPSeeOther("/login")
        if request.method == "POST" and not via_basic:
            form = await request.post() if not request.path.startswith("/api/") else {}
            token = request.headers.get("X-CSRF-Token") or form.get("csrf")
            if token != session.csrf:
                return web.Response(status=403, text="CSRF token missing or wrong")
        request[SESSION] = session
        return await handler(request)

    async def _basic(self, request: web.Request) -> Session | None:
        """HTTP Basic for API clients (scripts); never offered to browsers (no WWW-Authenticate)."""
        header = request.headers.get("Authorization", "")
        if not request.path.startswith("/api/") or not header.startswith("Basic "):
            return None
        try:
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        peer = request.remote or "?"
        if self.throttle.blocked(peer, name):
            return None
        user = await self.store.get_user(name)
        if not verify(user, password) or user is None:
            self.throttle.fail(peer, name)
            return None
        return Session(user.name, user.role, "", 0)

    def render(self, request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
        lang = request.query.get("lang") or request.cookies.get("lang", "ja")
        session = request.get(SESSION) if SESSION in request else None
        html = self.env.get_template(template).render(t=texts(lang), lang=lang, session=session, **values)
        response = web.Response(text=html, content_type="text/html", status=status)
        if "lang" in request.query:
            response.set_cookie("lang", lang, httponly=True, samesite="Strict")
        return response

    def _now(self) -> str:
        return iso(self.review.clock())

    # --- sign-in -------------------------------------------------------------------------

    async def login_form(self, request: web.Request) -> web.Response:
        return self.render(request, "login.html", error=None)

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        name, password = str(form.get("user", "")), str(form.get("password", ""))
        peer = request.remote or "?"
        if self.throttle.blocked(peer, name):
            return self.render(request, "login.html", status=429, error="throttled")
        user = await self.store.get_user(name)
        if not verify(user, password) or user is None:
            self.throttle.fail(peer, name)
            await self.store.append_audit(
                AuditEntry(self._now(), name or "?", "login_failed", None, "", {"peer": peer})
            )
            return self.render(request, "login.html", status=401, error="bad_login")
        self.throttle.clear(peer, name)
        await self.store.append_audit(AuditEntry(self._now(), user.name, "login", None, "", {"peer": peer}))
        response = web.HTTPSeeOther("/")
        response.set_cookie(
            COOKIE,
            self.sessions.create(user),
            httponly=True,
            samesite="Strict",
            secure=self.settings.secure_cookies,
            max_age=int(self.settings.session_hours * 3600),
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.drop(request.cookies.get(COOKIE))
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE)
        raise response

    # --- pages ---------------------------------------------------------------------------

    async def dashboard(self, request: web.Request) -> web.Response:
        s = await dashboard_stats(self.store, self.review.clock())
        return self.render(
            request,
            "dashboard.html",
            stats=s,
            per_day_svg=stacked_days(s["per_day"]),
            rules_svg=bars(s["top_rules"]),
            insurers_svg=bars(s["insurers"]),
        )

    async def queue(self, request: web.Request) -> web.Response:
        query = query_of(request.query)
        result = await self.store.search(query)
        page = query.offset // PAGE + 1
        args = {k: v for k, v in request.query.items() if k != "page"}
        return self.render(
            request,
            "queue.html",
            items=result.items,
            total=result.total,
            page=page,
            pages=max((result.total + PAGE - 1) // PAGE, 1),
            args=args,
            statuses=STATUSES,
            message=request.query.get("msg"),
        )

    async def _item(self, request: web.Request) -> HeldMessage:
        try:
            return await self.store.get(request.match_info["ref"])
        except NotFoundError as exc:
            raise web.HTTPNotFound(text="no such message") from exc

    async def message(self, request: web.Request) -> web.Response:
        item = await self._item(request)
        history = await self.store.audit(ref=item.ref)
        return self.render(
            request,
            "message.html",
            item=item,
            report=item.summary,
            history=history,
            headers=shown_headers(item.raw),
            message=request.query.get("msg"),
        )

    async def raw(self, request: web.Request) -> web.Response:
        item = await self._item(request)
        raw = await self.review.raw(item.ref, request[SESSION].user, "console")
        return self.render(request, "raw.html", item=item, raw=raw.decode("utf-8", "replace"))

    async def _form(self, request: web.Request) -> dict[str, str]:
        if request.path.startswith("/api/") and request.content_type == "application/json":
            body = await request.json()
            return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        return {k: str(v) for k, v in (await request.post()).items()}

    async def release(self, request: web.Request) -> web.StreamResponse:
        ref, form = request.match_info["ref"], await self._form(request)
        try:
            item = await self.review.release(
                ref, request[SESSION].user, form.get("reason", ""), strip_violating=form.get("strip") == "1"
            )
        except (DlpError, RelayError) as exc:
            return self._done(request, ref, str(exc), 409)
        return self._done(request, ref, f"{item.ref}: {item.status}")

    async def deny(self, request: web.Request) -> web.StreamResponse:
        ref, form = request.match_info["ref"], await self._form(request)
        try:
            item = await self.review.deny(ref, request[SESSION].user, form.get("reason", ""))
        except DlpError as exc:
            return self._done(request, ref, str(exc), 409)
        if item.verdict == HeldVerdict.APPROVE and self.gate_pages.on_reject is not None:
            await self.gate_pages.on_reject(item, form.get("reason", ""))  # denied in the console: told too
        return self._done(request, ref, f"{item.ref}: {item.status}")

    def _done(self, request: web.Request, ref: str, message: str, status: int = 200) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            return web.json_response({"ref": ref, "result": message}, status=status)
        raise web.HTTPSeeOther(f"/messages/{ref}?msg={message}")

    async def bulk(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        refs = [str(v) for v in form.getall("ref", [])]
        action = str(form.get("action", ""))
        if action not in ("release", "release_stripped", "deny"):
            raise web.HTTPBadRequest(text="unknown action")
        results = await self.review.bulk(refs, action, request[SESSION].user, str(form.get("reason", "")))
        ok = sum(1 for r in results if r.ok)
        failed = "; ".join(f"{r.ref}: {r.error}" for r in results if not r.ok)
        raise web.HTTPSeeOther(f"/queue?msg={ok} ok{'; ' + failed if failed else ''}")

    async def audit(self, request: web.Request) -> web.Response:
        entries = await self.store.audit(since=request.query.get("since"), until=request.query.get("until"))
        return self.render(request, "audit.html", entries=list(reversed(entries))[:1000])

    async def audit_csv(self, request: web.Request) -> web.Response:
        entries = await self.store.audit(since=request.query.get("since"), until=request.query.get("until"))
        return web.Response(
            body=("\ufeff" + audit_csv(entries)).encode(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": 'attachment; filename="dlp-audit.csv"'},
        )

    async def incident(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            report = await incident_for(self.store, self.review.clock(), q.get("ref"), q.get("since"), q.get("until"))
        except NotFoundError as exc:
            raise web.HTTPNotFound(text="no such message") from exc
        if request.path.endswith(".csv"):
            return web.Response(
                body=("\ufeff" + incident_csv(report)).encode(), content_type="text/csv", charset="utf-8"
            )
        if request.path.startswith("/api/"):
            return web.json_response(report, dumps=lambda o: json.dumps(o, ensure_ascii=False))
        return self.render(request, "incident.html", report=report)

    async def admin_reload(self, request: web.Request) -> web.StreamResponse:
        session = request[SESSION]
        if session.role != "admin":
            return web.json_response({"error": "admin only"}, status=403)
        result = await self.reload_hook() if self.reload_hook else "reload is not available here"
        await self.store.append_audit(AuditEntry(self._now(), session.user, "reload", None, result))
        if request.path.startswith("/api/"):
            return web.json_response({"result": result})
        raise web.HTTPSeeOther("/?msg=" + result)

    # --- JSON API ------------------------------------------------------------------------

    async def api_messages(self, request: web.Request) -> web.Response:
        result = await self.store.search(query_of(request.query))
        return web.json_response(
            {"total": result.total, "items": [message_json(i) for i in result.items]},
            dumps=lambda o: json.dumps(o, ensure_ascii=False),
        )

    async def api_message(self, request: web.Request) -> web.Response:
        return web.json_response(
            message_json(await self._item(request), full=True), dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    async def api_audit(self, request: web.Request) -> web.Response:
        entries = await self.store.audit(
            ref=request.query.get("ref"), since=request.query.get("since"), until=request.query.get("until")
        )
        return web.json_response([e.__dict__ for e in entries], dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def api_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            await dashboard_stats(self.store, self.review.clock()), dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )


async def start_console(console: ConsoleApp, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(console.app(), access_log=None)  # access logs would carry references and addresses
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    server = runner.server
    assert runner.addresses, server
    return int(runner.addresses[0][1])
