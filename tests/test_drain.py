"""SIGTERM during a take: the studio drains (no new takes or dialogues, /healthz says so), the take finishes,
then it exits."""

from __future__ import annotations

import json
import signal
import socket
import time

import httpx
import pytest
import soundfile as sf
from gradio_client import Client

from tests.processes import wait_until
from tests.studio_server import healthz, studio_process


def test_sigterm_lets_the_running_take_finish_then_exits(tmp_path):
    with studio_process(tmp_path / "server.log", "--asr-model", "none", env={"HVS_DRAIN_S": "120"}) as (url, server):
        client = Client(url, verbose=False)
        # (long enough to keep the studio busy while the calls below are refused)
        take = client.submit(api_name="/synthesize", text="Finish me before you go.", max_new_tokens=250, seed=1)
        assert wait_until(lambda: healthz(url)["busy"], 120)
        server.send_signal(signal.SIGTERM)
        assert wait_until(lambda: healthz(url)["status"] == "draining", 10)
        with pytest.raises(Exception, match="shutting down"):  # no new work while draining
            Client(url, verbose=False).predict(api_name="/synthesize", text="Too late.", max_new_tokens=20)
        with pytest.raises(Exception, match="shutting down"):  # a dialogue too (it skipped the service and ran)
            Client(url, verbose=False).predict(api_name="/dialogue", script="A: Too late.\nB: Yes.",
                                               max_new_tokens=20)
        refused = httpx.post(f"{url}/v1/audio/speech", json={"input": "Too late.", "max_new_tokens": 20}, timeout=30)
        assert refused.status_code == 503 and "shutting down" in refused.json()["error"]["message"]
        wav = take.result(timeout=180)  # the take that was running when the signal came is delivered
        assert sf.info(wav).samplerate == 24_000 and sf.info(wav).duration > 0
        assert server.wait(timeout=60) == 0  # then the studio exits on its own
    log = (tmp_path / "server.log").read_text()
    assert "draining" in log and "every take finished" in log


def test_a_take_longer_than_the_drain_time_does_not_hold_the_exit(tmp_path):
    with studio_process(tmp_path / "server.log", "--asr-model", "none", env={"HVS_DRAIN_S": "2"}) as (url, server):
        Client(url, verbose=False).submit(api_name="/synthesize", text="Too long to wait for.", max_new_tokens=4096)
        assert wait_until(lambda: healthz(url)["busy"], 120)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 1  # gave up after HVS_DRAIN_S instead of minutes of generating
    assert "drain time (HVS_DRAIN_S=2 s) is up" in (tmp_path / "server.log").read_text()


def test_a_speech_call_whose_body_comes_after_sigterm_is_refused_not_cut(tmp_path):
    """Its headers came before the signal, its body after. It got a take that started after the drain had
    found nothing to wait for; the studio then aborted mid-take (exit 134). Now: 503, and a clean exit."""
    with studio_process(tmp_path / "server.log", "--asr-model", "none", env={"HVS_DRAIN_S": "30"}) as (url, server):
        body = json.dumps({"input": "A slow upload, finished after the signal.", "max_new_tokens": 2000}).encode()
        head = (f"POST /v1/audio/speech HTTP/1.1\r\nHost: studio\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=60) as sock:
            sock.sendall(head + body[:10])
            time.sleep(1)  # the handler has started: it waits for the rest of the body
            server.send_signal(signal.SIGTERM)
            time.sleep(1)
            sock.sendall(body[10:])
            reply = b""
            for _ in range(1000):  # bounded: until the server closes the connection
                if not (data := sock.recv(65536)):
                    break
                reply += data
        assert reply.startswith(b"HTTP/1.1 503") and b"shutting_down" in reply, reply[:300]
        assert server.wait(timeout=60) == 0
