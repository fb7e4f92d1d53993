"""Servers under test as child processes: a free loopback port, start, wait until ready, always stop."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(log_path: Path) -> str:
    return log_path.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def serving(command: list[str], ready: Callable[[], bool], log_path: Path, cwd: Path, env: dict[str, str],
            timeout_s: float = 180) -> Iterator[subprocess.Popen]:
    """Run `command` (output to `log_path`), yield once `ready()` is true, stop it on the way out.
    `ready` may raise OSError (requests' errors are OSErrors) or ValueError while the server is coming up."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[1:3]} exited with {process.returncode}:\n{_tail(log_path)}")
                with contextlib.suppress(OSError, ValueError):
                    if ready():
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{command[1:3]} not ready within {timeout_s} s:\n{_tail(log_path)}")
                time.sleep(0.3)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def wait_until(check: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> bool:
    """Poll `check` until it is true (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every_s)
    return False
