"""SIGTERM drain: a studio or worker that is asked to stop (a redeploy, a scale-down) first finishes its work.

On SIGTERM the process stops taking new work (the `draining` event is set: the Studio refuses new takes
and dialogues with a sentence saying why, the worker new jobs; /healthz and a health job say "draining"),
the work already running or queued gets up to HVS_DRAIN_S seconds (default 30) to finish, then the
process ends. Work still running when the time is up is lost, and the exit code is 1.

How the end comes differs by root, so it is chosen at install:
- the studio (`install()`): its main thread only waits in Gradio's launch(), so the wait happens in the
  signal handler, which then ends launch() (KeyboardInterrupt closes the server and returns);
- the worker (`install(background=True)`): its main thread runs the event loop serving the jobs, so the
  wait happens on a watchdog thread, and the signal is handed on to the handler installed before (the
  RunPod SDK's, which stops taking jobs and closes once the running ones are answered).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

DEFAULT_DRAIN_S = 30.0
LINGER_S = 2.0
POLL_S = 0.2


class Drain:
    """`busy()` says whether work is under way; `draining` is shared with whatever refuses new work."""

    def __init__(self, draining: threading.Event, busy: Callable[[], bool], grace_s: float | None = None,
                 work: str = "take") -> None:
        self.draining = draining
        self.busy = busy
        self.grace_s = DEFAULT_DRAIN_S if grace_s is None else grace_s  # HVS_DRAIN_S, passed in by the roots
        self.work = work  # one piece of work, in the log's words: "take", "job"

    def install(self, background: bool = False) -> None:
        """Call from the main thread (only it may set a signal handler)."""
        if background:
            previous = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, lambda signum, frame: self._in_background(previous, signum, frame))
        else:
            signal.signal(signal.SIGTERM, self._in_handler)

    def begin(self) -> bool:
        """Refuse new work from now on; False when a drain had begun already."""
        if self.draining.is_set():
            return False
        self.draining.set()
        log.warning("SIGTERM: draining; no new %ss, up to %.0f s for the running ones", self.work, self.grace_s)
        return True

    def wait(self) -> bool:
        """Wait until no work is under way, at most the grace time; exits (code 1) when the time is up
        with work still running. Returns whether there was work to wait for."""
        deadline = time.monotonic() + self.grace_s
        was_busy = self.busy()
        while self.busy() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if self.busy():
            log.error("drain time (HVS_DRAIN_S=%.0f s) is up with a %s still running; exiting", self.grace_s,
                      self.work)
            logging.shutdown()
            os._exit(1)  # a generating thread would otherwise hold the interpreter open
        return was_busy

    def _in_handler(self, signum, frame) -> None:
        """Runs in the main thread, which only waits in Gradio's launch(): waiting here is safe."""
        if not self.begin():
            return
        started = time.monotonic()
        if self.wait():  # the last caller still fetches its file
            time.sleep(min(LINGER_S, max(self.grace_s - (time.monotonic() - started), 0)))
        log.info("drained: every take finished; closing")
        raise KeyboardInterrupt  # Gradio's launch() closes the server on it and returns

    def _in_background(self, previous, signum, frame) -> None:
        if self.begin():
            threading.Thread(target=self.wait, name="drain-watchdog", daemon=True).start()
        if callable(previous):
            previous(signum, frame)
