"""How many speech calls at once: the API's own queue, as long as the page's."""

from __future__ import annotations

import threading


class Gate:
    """At most `running` takes generate at once and `waiting` more wait; a request beyond that gets 429,
    like the page's queue (--max-batch, --queue-size). `waiting` is read by /healthz and the SIGTERM drain."""

    def __init__(self, running: int, waiting: int) -> None:
        self.limit = running + waiting
        self._slots = threading.Semaphore(running)
        self._inside = self._generating = 0
        self._lock = threading.Lock()

    @property
    def inside(self) -> int:
        """Calls let in whose take has not ended yet."""
        return self._inside

    @property
    def waiting(self) -> int:
        """Calls let in that wait for a slot (the running ones are counted by the engine)."""
        with self._lock:
            return self._inside - self._generating

    def enter(self) -> bool:
        with self._lock:
            if self._inside >= self.limit:
                return False
            self._inside += 1
            return True

    def start(self, cancel: threading.Event) -> bool:
        """Wait for a slot; False once `cancel` is set first."""
        while not self._slots.acquire(timeout=0.2):
            if cancel.is_set():
                return False
        with self._lock:
            self._generating += 1
        return True

    def finish(self) -> None:
        with self._lock:
            self._generating -= 1
        self._slots.release()

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1
