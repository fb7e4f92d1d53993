"""Login for every route: Gradio's `auth=` checks its own API routes, not all of them (a take's live
stream under /gradio_api/stream/... answers without a login in Gradio 6.31). This middleware refuses
every request without Gradio's login cookie, except the login page, what it loads, and /healthz.
"""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection

from studio.access import Access, Caller, login_cookie

# What a visitor who is not logged in may fetch: the login page and its assets, the login/logout
# actions, and /healthz for load balancers. Everything else needs the login cookie.
PUBLIC_EXACT = frozenset({
    "/", "/login", "/login/", "/logout", "/healthz", "/favicon.ico", "/manifest.json", "/robots.txt",
    "/theme.css", "/gradio_api/theme.css", "/config", "/config/", "/gradio_api/info", "/gradio_api/info/",
    "/gradio_api/startup-events",  # launch() calls it on itself, without a cookie, before serving
})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon",
                   "/v1/")  # the OpenAI-compatible API checks its own access (HVS_API_KEY or this login)


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


class LoginRequired:
    """ASGI middleware. Reads the login state from Gradio's own app (scope["app"]): its accounts and
    the tokens it hands out as the `access-token-<cookie id>` cookie at /login. Without auth it lets
    everything through. /config and /gradio_api/info are listed as public only because Gradio itself
    refuses them without a login (the login page asks for them and reads the refusal)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": "Not authenticated: log in on the studio's page first."}).encode()
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _allowed(self, scope) -> bool:
        server = scope.get("app")
        if server is None or (getattr(server, "auth", None) is None and getattr(server, "auth_dependency", None) is None):
            return True
        path = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        if is_public(path):
            return True
        if server.auth_dependency is not None:  # an app-provided login (not used by app.py): Gradio checks it
            return True
        token = login_cookie(HTTPConnection(scope).cookies, server.cookie_id)
        return Access(logins=server.auth, tokens=server.tokens).page_allows(Caller(login_token=token))
