"""Who may call: the one login check, from plain values, for the page's middleware and the speech API.

- The page (and everything under it but a few public routes) needs the login cookie Gradio hands out at
  /login, where the studio has a login (--auth); without one it is open.
- The speech API takes HVS_API_KEY as a Bearer token; where the studio has a login, that login works too:
  the page's login cookie, or user:password as Basic credentials or as the Bearer token. With neither a key
  nor a login, it is as open as the page.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass, field
from typing import Any

# Logins as Gradio keeps them: {user: password}, or a function (user, password) -> bool.
Logins = Mapping[str, Any] | Callable[[str, str], bool] | None


def login_cookie(cookies: Mapping[str, str], cookie_id: str) -> str | None:
    """The login token Gradio set as a cookie (named after the app's cookie id; `-unsecure-` over plain http)."""
    return cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")


@dataclass(frozen=True)
class Caller:
    """What a request says about its caller."""

    authorization: str = ""  # the Authorization header, as sent
    login_token: str | None = None  # the login cookie's value (see login_cookie)


@dataclass(frozen=True)
class Access:
    """What the studio was configured with, and the login tokens its app has issued so far."""

    api_key: str = ""
    logins: Logins = None
    tokens: Container[str] = field(default_factory=frozenset)

    def page_allows(self, caller: Caller) -> bool:
        """The page and its routes: open without a login, else the login cookie only."""
        return self.logins is None or self._logged_in(caller)

    def api_allows(self, caller: Caller) -> bool:
        """The speech API: the key, the login cookie, or the login's user:password."""
        if not self.api_key and not self.logins:
            return True
        scheme, _, credentials = caller.authorization.partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if self.api_key and scheme == "bearer" and _same(credentials, self.api_key):
            return True
        if not self.logins:
            return False
        if self._logged_in(caller):
            return True
        if scheme == "basic":
            try:
                credentials = base64.b64decode(credentials).decode()
            except (ValueError, UnicodeDecodeError):
                return False
        user, sep, password = credentials.partition(":")
        return bool(sep) and self._password_ok(user, password)

    def _logged_in(self, caller: Caller) -> bool:
        return caller.login_token is not None and caller.login_token in self.tokens

    def _password_ok(self, user: str, password: str) -> bool:
        if callable(self.logins):
            return bool(self.logins(user, password))
        return user in self.logins and _same(password, str(self.logins[user]))


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
