"""Starts `python app.py` on a free loopback port for a test and stops it afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.processes import free_port, serving

ROOT = Path(__file__).resolve().parent.parent


def healthz(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(f"{url}/healthz", timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def run_studio(log_path: Path, *extra: str, startup_s: float = 180, env: dict | None = None) -> Iterator[str]:
    """Yields the base URL once /healthz says ok; the log of the server goes to `log_path`."""
    with studio_process(log_path, *extra, startup_s=startup_s, env=env) as (url, _):
        yield url


@contextlib.contextmanager
def studio_process(log_path: Path, *extra: str, startup_s: float = 180, env: dict | None = None
                   ) -> Iterator[tuple[str, subprocess.Popen]]:
    """run_studio, also yielding the server's process (to signal it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                   "GRADIO_ANALYTICS_ENABLED": "False", "HVS_BROWSER_SECRET": "test-secret", **(env or {})}
    command = [sys.executable, str(ROOT / "app.py"), "--model", "tiny-random", "--host", "127.0.0.1",
               "--port", str(port), *extra]
    with serving(command, lambda: healthz(url, timeout=2)["status"] == "ok", log_path, ROOT, environment,
                 timeout_s=startup_s) as process:
        yield url, process
