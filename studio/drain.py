"""SIGTERM drain: a studio that is asked to stop (a redeploy, a scale-down) first finishes its takes.

On SIGTERM the studio stops taking new work (a new take is refused with a sentence saying why; see
Studio.draining), /healthz says "draining" so a load balancer sends visitors elsewhere, the takes already running or queued get
up to HVS_DRAIN_S seconds (default 30) to finish, then the server closes. A take still running when
the time is up is lost, and the exit code is 1.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

log = logging.getLogger(__name__)

DEFAULT_DRAIN_S = 30.0
LINGER_S = 2.0


def waiting(demo, gate=None) -> int:
    """Calls waiting to start: in the page's queue (Gradio) and in the speech API's (openai_api.Gate)."""
    queued = len(demo._queue) if getattr(demo, "_queue", None) is not None else 0
    return queued + (gate.waiting if gate is not None else 0)


def under_way(status: dict, demo, gate=None) -> bool:
    """Any take generating, being prepared or encoded, or waiting for its turn, through any door."""
    page = any(job for job in getattr(getattr(demo, "_queue", None), "active_jobs", []) or [])
    api = gate is not None and gate.inside > 0
    return bool(status.get("busy") or status.get("pending") or waiting(demo, gate) or page or api)


class Drain:
    def __init__(self, engine, demo, draining: threading.Event, grace_s: float | None = None, gate=None) -> None:
        self.engine = engine
        self.demo = demo
        self.gate = gate
        self.draining = draining  # shared with the Studio, which refuses new takes once it is set
        self.grace_s = DEFAULT_DRAIN_S if grace_s is None else grace_s  # HVS_DRAIN_S, passed in by app.py

    def install(self) -> None:
        """Call from the main thread before launch (Gradio serves from another thread)."""
        signal.signal(signal.SIGTERM, self._on_sigterm)

    def busy(self) -> bool:
        return under_way(self.engine.status(), self.demo, self.gate)

    def _on_sigterm(self, signum, frame) -> None:
        """Runs in the main thread, which only waits in Gradio's launch(): waiting here is safe."""
        if self.draining.is_set():
            return
        self.draining.set()
        log.warning("SIGTERM: draining; no new takes, up to %.0f s for the running ones", self.grace_s)
        deadline = time.monotonic() + self.grace_s
        was_busy = self.busy()
        while self.busy() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self.busy():
            log.error("drain time (HVS_DRAIN_S=%.0f s) is up with a take still running; exiting", self.grace_s)
            logging.shutdown()
            os._exit(1)  # a generating thread would otherwise hold the interpreter open
        if was_busy:  # the last caller still fetches its file
            time.sleep(min(LINGER_S, max(deadline - time.monotonic(), 0)))
        log.info("drained: every take finished; closing")
        raise KeyboardInterrupt  # Gradio's launch() closes the server on it and returns
