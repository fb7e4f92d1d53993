"""Login throttling: a client address that sends `attempts` wrong passwords or keys within `window_s` is
locked out for `window_s` (each try meanwhile is answered 429 with Retry-After, even the right password).
A lockout is per client address (IPv6 per /64, what one host usually holds), so other clients keep their
way in; at most `clients` addresses are remembered (the least recently seen is forgotten first).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Record:
    failures: int
    since: float  # when the first of those failures came
    locked_until: float = 0.0


class Throttle:
    def __init__(self, attempts: int = 10, window_s: float = 60.0, clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts, self.window_s, self.clients, self._clock = attempts, window_s, clients, clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, client: str | None) -> int:
        """Whole seconds until `client` may try again (0: it may now)."""
        with self._lock:
            record = self._records.get(_key(client))
            left = record.locked_until - self._clock() if record else 0.0
        return math.ceil(left) if left > 0 else 0

    def failed(self, client: str | None) -> None:
        """A wrong password or key from `client`."""
        key, now = _key(client), self._clock()
        with self._lock:
            record = self._records.pop(key, None)
            if record is None or now - record.since > self.window_s:
                record = _Record(0, now, record.locked_until if record else 0.0)
            record.failures += 1
            if record.failures >= self.attempts:
                record.failures, record.since, record.locked_until = 0, now, now + self.window_s
            self._records[key] = record  # the most recently seen last
            while len(self._records) > self.clients:
                self._records.popitem(last=False)

    def passed(self, client: str | None) -> None:
        """The right password or key from `client`: its wrong ones are forgotten."""
        with self._lock:
            self._records.pop(_key(client), None)


def _key(client: str | None) -> str:
    try:
        address = ipaddress.ip_address(client or "")
    except ValueError:
        return client or ""
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))
