"""Who may use which route of the studio's server (the rule itself is studio/access.py):

- public: the page shell `/`, the login page and what they load, /healthz (and /v1, which checks itself);
- every other route (Gradio's API, upload, file and stream routes, MCP) needs the login or the key where the
  studio has one (Gradio's own `auth=` leaves a take's live stream under /gradio_api/stream/... open, and
  knows nothing of HVS_API_KEY). With a key and no login, the page shell hands the visitor's browser the
  page's session cookie, so the open page keeps working while a programmatic caller needs the key;
- wrong passwords (at /login, or as credentials) and wrong keys are throttled per client address: 429.
"""

from __future__ import annotations

import json
import secrets

from starlette.requests import HTTPConnection

from studio.access import Access, Caller, Verdict, login_cookie
from studio.throttle import Throttle

from .asgi import route_path

# What anyone may fetch: the page shell (the login page with HVS_AUTH) and its assets, the login/logout
# actions, and /healthz for load balancers.
PUBLIC_EXACT = frozenset({
    "/", "/login", "/login/", "/logout", "/healthz", "/favicon.ico", "/manifest.json", "/robots.txt",
    "/theme.css", "/gradio_api/theme.css", "/config", "/config/", "/gradio_api/info", "/gradio_api/info/",
    "/gradio_api/startup-events",  # launch() calls it on itself, without a cookie, before serving
})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon",
                   "/v1/")  # the OpenAI-compatible API checks its own access (openai_api/routes.py)
# Public here, but refused by Gradio itself without its login: a caller sending credentials is checked
# here, so that it gets Gradio's login too.
SELF_GUARDED = frozenset({"/config", "/config/", "/gradio_api/info", "/gradio_api/info/"})
# What a session reads of the events it joined (guarded, at /gradio_api/queue/join): its random session hash
# is its secret, as in any open Gradio app. Open here without a login, so that the studio's own MCP server,
# which runs a tool through a gradio_client of its own that sends the key only to join, reads the result.
SESSION_ROUTES = ("/gradio_api/queue/data", "/gradio_api/heartbeat/")
SECURE = "-s"  # the page cookie's name ends so in its https-only copy (SameSite=None, for a page in an iframe)


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


class LoginRequired:
    """ASGI middleware. Reads the login state from Gradio's own app (scope["app"]): its accounts and the
    tokens it hands out as the `access-token-<cookie id>` cookie at /login. /config and /gradio_api/info are
    public only because Gradio itself refuses them without a login (the login page reads the refusal)."""

    def __init__(self, app, api_key: str = "", throttle: Throttle | None = None) -> None:
        self.app, self.api_key, self.throttle = app, api_key, throttle or Throttle()
        self._token = secrets.token_urlsafe(32)  # Gradio's login for callers let in by their credentials

    async def __call__(self, scope, receive, send) -> None:
        server = scope.get("app")
        if scope["type"] not in ("http", "websocket") or server is None or server.auth_dependency is not None:
            await self.app(scope, receive, send)  # (an app-provided login, not used by app.py: Gradio checks it)
            return
        path, access = route_path(scope), Access(self.api_key, server.auth, server.tokens)
        address = (scope.get("client") or (None,))[0]
        if path in ("/login", "/login/") and scope.get("method") == "POST" and server.auth:
            await self._login(scope, receive, send, address)
        elif path == "/" and access.page_cookie():
            await self.app(scope, receive, _setting_cookie(send, *access.page_cookie()))
        elif _open(path, scope, bool(server.auth)):
            await self.app(scope, receive, send)
        else:
            await self._guarded(scope, receive, send, access, address)

    async def _guarded(self, scope, receive, send, access: Access, address: str | None) -> None:
        connection = HTTPConnection(scope)
        cookies, mark, server_id = connection.cookies, access.page_cookie(), scope["app"].cookie_id
        token = login_cookie(cookies, server_id) if access.logins else None
        caller = Caller(connection.headers.get("authorization", ""), token,
                        mark and (cookies.get(mark[0]) or cookies.get(mark[0] + SECURE)), address)
        verdict = access.admit(caller, self.throttle)
        if not verdict.allowed:
            await _refuse(scope, send, verdict)
            return
        if access.logins and not access.allows(Caller(login_token=token)):  # let in by Basic/Bearer:
            scope["app"].tokens[self._token] = "api"  # Gradio's own login check then passes too
            scope = _with_cookie(scope, f"access-token-{server_id}", self._token)
        await self.app(scope, receive, send)

    async def _login(self, scope, receive, send, address: str | None) -> None:
        """Gradio's /login, refused while this address is locked out; its 400 (wrong password) counts."""
        wait = self.throttle.wait_s(address)
        if wait:
            await _refuse(scope, send, Verdict(429, f"Too many wrong passwords from your address: try again in "
                                                    f"{wait} s.", wait))
            return

        async def watching(message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] == 400:
                    self.throttle.failed(address)
                elif message["status"] == 200:
                    self.throttle.passed(address)
            await send(message)

        await self.app(scope, receive, watching)


def _open(path: str, scope, login: bool) -> bool:
    if path.startswith(SESSION_ROUTES):
        return not login
    sends_credentials = any(k == b"authorization" for k, _ in scope.get("headers", []))
    return is_public(path) and not (path in SELF_GUARDED and login and sends_credentials)


async def _refuse(scope, send, verdict: Verdict) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"detail": verdict.message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if verdict.retry_after_s:
        headers.append((b"retry-after", str(verdict.retry_after_s).encode()))
    await send({"type": "http.response.start", "status": verdict.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _setting_cookie(send, name: str, value: str):
    """`send`, adding the page's session cookie to the response (plain, and an https copy for iframes)."""
    cookies = [f"{name}={value}; Path=/; HttpOnly; SameSite=Lax",
               f"{name}{SECURE}={value}; Path=/; HttpOnly; SameSite=None; Secure"]

    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []),
                                              *((b"set-cookie", c.encode()) for c in cookies)]}
        await send(message)

    return sending


def _with_cookie(scope, name: str, value: str):
    """`scope` with one more cookie (last, so it wins over one of the same name the caller sent)."""
    sent = b"; ".join(v for k, v in scope["headers"] if k == b"cookie")
    cookie = f"{name}={value}".encode()
    headers = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
    return {**scope, "headers": [*headers, (b"cookie", sent + b"; " + cookie if sent else cookie)]}
