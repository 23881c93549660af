"""The pages behind the links in hold and approval notices: no sign-in, the one-time secret in the
link is the credential. A GET only shows the page (mail scanners fetch links); only the POST acts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import jinja2
from aiohttp import web

from dlp_gateway.errors import DlpError, RelayError
from dlp_gateway.held import HeldMessage
from dlp_gateway.quarantine.gates import Gates
from dlp_gateway.quarantine.incident import jst

PUBLIC_PREFIXES = ("/hold/", "/approval/")
Rejected = Callable[[HeldMessage, str], Awaitable[None]]


class GatePages:
    def __init__(self, gates: Gates, env: jinja2.Environment, on_reject: Rejected | None = None) -> None:
        self.gates = gates
        self.env = env
        self.on_reject = on_reject

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/hold/{ref}/{token}", self.hold_page)
        router.add_post("/hold/{ref}/{token}", self.cancel)
        router.add_get("/approval/{ref}/{token}", self.approval_page)
        router.add_post("/approval/{ref}/{token}", self.decide)

    def _page(self, status: int = 200, **values: Any) -> web.Response:
        defaults: dict[str, Any] = {"item": None, "done": "", "error": "", "kind": ""}
        html = self.env.get_template("gate.html").render(
            lang="ja", session=None, t={"title": "DLP"}, **(defaults | values)
        )
        return web.Response(text=html, content_type="text/html", status=status)

    async def _pending(self, request: web.Request, kind: str) -> HeldMessage:
        return await self.gates.pending(request.match_info["ref"], request.match_info["token"], kind)

    async def hold_page(self, request: web.Request) -> web.Response:
        try:
            item = await self._pending(request, "hold")
        except DlpError as exc:
            return self._page(404, error=str(exc))
        return self._page(item=item, kind="hold", due=jst(item.summary.gate.due if item.summary.gate else None))

    async def cancel(self, request: web.Request) -> web.Response:
        try:
            item = await self.gates.cancel(request.match_info["ref"], request.match_info["token"])
        except DlpError as exc:
            return self._page(409, error=str(exc))
        return self._page(item=item, done="cancelled")

    async def approval_page(self, request: web.Request) -> web.Response:
        try:
            item = await self._pending(request, "approve")
        except DlpError as exc:
            return self._page(404, error=str(exc))
        return self._page(item=item, kind="approve")

    async def decide(self, request: web.Request) -> web.Response:
        ref, token = request.match_info["ref"], request.match_info["token"]
        form = await request.post()
        try:
            if form.get("decision") == "approve":
                item = await self.gates.approve(ref, token)
                return self._page(item=item, done="approved")
            reason = str(form.get("reason", ""))
            item = await self.gates.reject(ref, token, reason)
        except (DlpError, RelayError) as exc:
            return self._page(409, error=str(exc))
        if self.on_reject is not None:
            await self.on_reject(item, reason)
        return self._page(item=item, done="rejected")
