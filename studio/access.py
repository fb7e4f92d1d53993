"""Who may call: the one login and API-key check, from plain values, for the page's middleware (ui/auth.py)
and the speech API (openai_api/routes.py).

- The page shell (`/`), the login page and what they load are public (ui/auth.py lists them).
- Every other route (Gradio's API and upload/file/stream routes, MCP, /v1) is open while the studio has
  neither a login (HVS_AUTH) nor a key (HVS_API_KEY). With either, a caller needs one of:
  - the login: Gradio's login cookie (from /login), or user:password as Basic credentials (or as the Bearer
    token, so the openai client can send it as its api_key);
  - the key, as `Authorization: Bearer <key>`;
  - with a key and no login, the page's own session cookie, which the page shell sets (page_cookie): the open
    page keeps working, while a programmatic caller must send the key. Only Gradio's routes read it, not /v1.
- Only the Bearer and Basic schemes count (any case). Wrong ones are throttled per client (studio/throttle.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.throttle import Throttle

# Logins as Gradio keeps them: {user: password}, or a function (user, password) -> bool.
Logins = Mapping[str, Any] | Callable[[str, str], bool] | None

_LOGIN = "log in on the studio's page, or send the login as 'Authorization: Basic <base64 of user:password>'"
_KEY = "send 'Authorization: Bearer <key>' (the studio's HVS_API_KEY)"


def login_cookie(cookies: Mapping[str, str], cookie_id: str) -> str | None:
    """The login token Gradio set as a cookie (named after the app's cookie id; `-unsecure-` over plain http)."""
    return cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")


@dataclass(frozen=True)
class Caller:
    """What a request says about its caller."""

    authorization: str = ""  # the Authorization header, as sent
    login_token: str | None = None  # the login cookie's value (see login_cookie)
    page_mark: str | None = None  # the page's session cookie (see Access.page_cookie); Gradio's routes only
    address: str | None = None  # the client's address: wrong passwords are counted per address


@dataclass(frozen=True)
class Verdict:
    """200: let in; 401: refused (`message` says what to send); 429: locked out for `retry_after_s`."""

    status: int
    message: str = ""
    retry_after_s: int = 0

    @property
    def allowed(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Access:
    """What the studio was configured with, and the login tokens its app has issued so far."""

    api_key: str = ""
    logins: Logins = None
    tokens: Container[str] = field(default_factory=frozenset)

    def admit(self, caller: Caller, throttle: Throttle | None = None) -> Verdict:
        """The verdict on a caller; wrong credentials count against its address in `throttle`."""
        if self._without_credentials(caller):
            return Verdict(200)
        wait = throttle.wait_s(caller.address) if throttle else 0
        if wait:
            return Verdict(429, f"Too many wrong passwords or keys from your address: try again in {wait} s.",
                           wait)
        if not caller.authorization.strip():
            return Verdict(401, self.refusal())
        if self._credentials_ok(caller.authorization):
            if throttle:
                throttle.passed(caller.address)
            return Verdict(200)
        if throttle:
            throttle.failed(caller.address)
        return Verdict(401, self.refusal())

    def allows(self, caller: Caller) -> bool:
        """admit without throttling."""
        return self.admit(caller).allowed

    def refusal(self) -> str:
        """The 401's sentence: what this studio takes."""
        if self.api_key and self.logins:
            return f"Not logged in and no valid API key: {_KEY}, or {_LOGIN}."
        if self.api_key:
            return f"Missing or wrong API key: {_KEY}."
        return f"Not logged in: {_LOGIN}."

    def challenge(self) -> str:
        """The 401's WWW-Authenticate header."""
        schemes = (["Bearer"] if self.api_key else []) + (['Basic realm="Higgs Voice Studio"'] if self.logins else [])
        return ", ".join(schemes)

    def page_cookie(self) -> tuple[str, str] | None:
        """(name, value) of the page's session cookie, where the studio has a key and no login (else None).
        Derived from the key, so it holds across restarts and replicas; named after it too, so two studios
        on one host keep theirs apart. It proves only that the caller loaded the open page."""
        if not self.api_key or self.logins:
            return None
        digest = hmac.new(self.api_key.encode(), b"higgs-voice-studio page", hashlib.sha256).hexdigest()
        return f"hvs-page-{digest[:8]}", digest[8:]

    def _without_credentials(self, caller: Caller) -> bool:
        if not self.api_key and not self.logins:
            return True
        if self.logins and caller.login_token is not None and caller.login_token in self.tokens:
            return True
        mark = self.page_cookie()
        return mark is not None and caller.page_mark is not None and _same(caller.page_mark, mark[1])

    def _credentials_ok(self, authorization: str) -> bool:
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme == "bearer":
            if self.api_key and _same(credentials, self.api_key):
                return True
        elif scheme == "basic":
            try:
                credentials = base64.b64decode(credentials, validate=True).decode()
            except (binascii.Error, ValueError, UnicodeDecodeError):
                return False
        else:  # Digest, Token, ...: not what the studio asks for
            return False
        user, sep, password = credentials.partition(":")
        return bool(self.logins) and bool(sep) and self._password_ok(user, password)

    def _password_ok(self, user: str, password: str) -> bool:
        if callable(self.logins):
            return bool(self.logins(user, password))
        return user in self.logins and _same(password, str(self.logins[user]))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
