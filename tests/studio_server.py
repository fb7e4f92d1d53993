"""Starts `python app.py` on a free loopback port for a test and stops it afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def run_studio(log_path: Path, *extra: str, startup_s: float = 180, env: dict | None = None) -> Iterator[str]:
    """Yields the base URL once /healthz answers; the log of the server goes to `log_path`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "GRADIO_ANALYTICS_ENABLED": "False", "HVS_BROWSER_SECRET": "test-secret", **(env or {})}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--model", "tiny-random", "--host", "127.0.0.1",
             "--port", str(port), *extra],
            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + startup_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the studio exited with {process.returncode}; see {log_path}")
                try:
                    if healthz(url, timeout=2)["status"] == "ok":
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the studio did not start within {startup_s} s; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
