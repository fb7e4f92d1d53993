"""Helpers and fixtures for the serverless worker tests: a worker process behind the runpod SDK's local
API server, a preset voices folder, and a small HTTP server for reference URLs. Loopback only."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.processes import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "test-output" / "worker-logs"


@contextlib.contextmanager
def local_worker(env: dict[str, str], name: str, ready_timeout_s: float = 180) -> Iterator[str]:
    """`python -m serverless.handler --rp_serve_api` on 127.0.0.1; yields its base URL."""
    with worker_process(env, name, ready_timeout_s) as (url, _):
        yield url


@contextlib.contextmanager
def worker_process(env: dict[str, str], name: str, ready_timeout_s: float = 180
                   ) -> Iterator[tuple[str, subprocess.Popen]]:
    """local_worker, also yielding the worker's process (to signal it)."""
    port = free_port()
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"{name}.log"
    # The SDK keeps its job state in the working directory (.runpod_jobs.pkl): one folder per worker.
    workdir = LOGS / name
    workdir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "HVS_MODEL": "tiny-random", "HVS_DEVICE": "cpu", "UVICORN_LOG_LEVEL": "warning",
                "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get(
                    "PYTHONPATH")])), **env}
    command = [sys.executable, "-m", "serverless.handler", "--rp_serve_api", "--rp_api_host", "127.0.0.1",
               "--rp_api_port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving(command, lambda: requests.get(f"{url}/docs", timeout=2).status_code == 200, log_path, workdir,
                 full_env, timeout_s=ready_timeout_s) as process:
        yield url, process


def post(url: str, route: str, body: dict | None = None, timeout: float = 120) -> dict:
    response = requests.post(f"{url}/{route}", json=body, timeout=timeout)
    assert response.status_code == 200, response.text[:2000]
    return response.json()


def runsync(url: str, job_input: dict) -> list[dict]:
    """The local API's /runsync for our generator handler: COMPLETED with the list of yielded items."""
    reply = post(url, "runsync", {"input": job_input})
    assert reply["status"] == "COMPLETED", reply
    assert isinstance(reply["output"], list) and reply["output"], reply
    return reply["output"]


@pytest.fixture(scope="session")
def voices_dir(tmp_path_factory, speech_wav) -> Path:
    """A preset voices folder with one voice, 'tester' (the espeak-ng clip and its transcript)."""
    folder = tmp_path_factory.mktemp("voices")
    (folder / "tester.wav").write_bytes(speech_wav.read_bytes())
    (folder / "tester.txt").write_text(
        "Hello, this is my voice. I am reading a short sentence for the cloning test.\n")
    return folder


@pytest.fixture(scope="session")
def worker_url(voices_dir) -> Iterator[str]:
    """A worker with no S3 configured (audio comes back as base64), shared by the API and remote tests."""
    env = {"HVS_VOICES_DIR": str(voices_dir), "HVS_URL_ALLOW_PRIVATE": "1"}  # the file server is on loopback
    env.update({k: "" for k in os.environ if k.startswith(("HVS_S3_", "BUCKET_"))})
    with local_worker(env, "base64") as url:
        yield url


class _Files(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict, bytes]] = {}
    drip_bytes = 0

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/drip":  # one byte every 0.2 s, forever-ish: only a total deadline stops it
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"R")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.2)
            return
        if self.path == "/late-body":  # headers at once, then a byte every 2 s: the deadline ends the read
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            self.end_headers()
            for _ in range(30):
                time.sleep(2)
                try:
                    self.wfile.write(b"R")
                    self.wfile.flush()
                except OSError:
                    return
            return
        if self.path == "/slow-headers":  # the status line one byte every 0.3 s: no read ever times out
            for byte in b"HTTP/1.0 200 OK\r\nContent-Type: audio/wav\r\nX-Padding: " + b"x" * 200:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.3)
            return
        if self.path == "/stall":  # headers, then nothing: the read timeout must fire
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(5)
            return
        path = urlsplit(self.path).path  # a proxied request names the whole URL
        status, headers, body = self.routes.get(path, (404, {}, b"not found"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers and "X-No-Length" not in headers:  # HTTP/1.0: body ends at close
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def file_server(speech_wav) -> Iterator[str]:
    """Serves reference files (and misbehaving routes) on 127.0.0.1."""
    wav = speech_wav.read_bytes()
    _Files.routes = {
        "/speech.wav": (200, {"Content-Type": "audio/wav"}, wav),
        "/redirect": (302, {"Location": "/speech.wav"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/big": (200, {"Content-Length": str(10**9)}, b""),
        "/empty": (200, {}, b""),
        "/text": (200, {"Content-Type": "text/plain", "X-No-Length": "1"}, b"this is not audio at all " * 100),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
