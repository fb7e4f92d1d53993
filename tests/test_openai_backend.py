"""`--backend openai:<base-url>`: the studio in front of an OpenAI-compatible speech server. Driven against
the studio's own /v1/audio/speech (a second studio on loopback), and against a plain server that knows
nothing of the cloning extensions (as the official higgs-audio vLLM server)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client

from backends import build_engine
from backends.openai_compatible import OpenAISpeechEngine
from inference import SynthesisRequest
from inference.contract.errors import InvalidRequest, ModelLoadError, StudioError
from tests.conftest import ROOT
from tests.doors_support import API_HEADERS, API_KEY
from tests.processes import free_port
from tests.studio_server import healthz, run_studio

QUANTUM = 2 / 32768  # 16-bit PCM on the wire, and streamed decoding within one step of the whole take


@pytest.fixture(scope="module")
def remote(doors_studio) -> OpenAISpeechEngine:
    url, _ = doors_studio
    engine = build_engine(backend=f"openai:{url}/v1", model_id="ignored")
    engine._api_key = API_KEY
    engine.load().warm_up()
    return engine


def test_warm_up_learns_the_servers_model_extensions_and_voices(remote):
    assert remote.server_model == "tiny-random" and remote.is_noise
    assert {"reference_audio", "reference_text", "seed", "temperature"} <= remote.extensions
    assert remote.voice == "smart" and "robot_en" in remote.server_voices
    assert remote.status()["backend"] == "openai" and remote.status()["pending"] == 0
    assert API_KEY not in repr(remote)


def test_remote_take_equals_the_local_take(remote, engine, speech_wav):
    request = SynthesisRequest.parse(text="Same voice, far away.", reference_audio=speech_wav,
                                     reference_text="Hello, this is my voice.", scene="A quiet room.",
                                     seed=11, max_new_tokens=40, temperature=0.9, top_k=30)
    near, far = engine.synthesize(request), remote.synthesize(request)
    assert far.seed == 11 and far.sample_rate == 24_000
    assert len(far.waveform) == len(near.waveform)
    assert np.abs(far.waveform - near.waveform).max() <= QUANTUM + np.abs(near.waveform).max() / 32768


def test_stream_brings_chunks_while_generating(remote):
    request = SynthesisRequest.parse(text="Piece by piece.", seed=2, max_new_tokens=120)
    chunks = list(remote.stream(request))
    audio, last = chunks[:-1], chunks[-1]
    assert len(audio) >= 2 and last.result is not None
    assert np.array_equal(np.concatenate([c.waveform for c in audio]), last.result.waveform)
    assert remote.status()["pending"] == 0


def test_server_side_errors_come_back_readable(remote):
    with pytest.raises(InvalidRequest, match="silent"):
        remote.synthesize(SynthesisRequest.parse(text="Hi.", reference_audio=_silent(),
                                                 max_new_tokens=20))
    wrong = OpenAISpeechEngine(remote.url, api_key="wrong-key")
    with pytest.raises(ModelLoadError, match="HVS_BACKEND_API_KEY"):
        wrong.warm_up()
    with pytest.raises(StudioError, match="Could not reach"):
        OpenAISpeechEngine(f"http://127.0.0.1:{free_port()}").warm_up()
    with pytest.raises(ModelLoadError, match="Bad OpenAI-compatible server"):
        build_engine(backend="openai:localhost:8000")


def _silent() -> bytes:
    from inference.audio.codec import encode_wav

    return encode_wav(np.zeros(24_000 * 2, np.float32))


@pytest.fixture(scope="module")
def front(doors_studio, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A second studio whose backend is the doors studio: `--backend openai:<its url>`. Yields (url, log path)."""
    url, _ = doors_studio
    log = tmp_path_factory.mktemp("front") / "front.log"
    env = {"HVS_BACKEND_API_KEY": API_KEY, "HVS_ASR_MODEL": "none"}
    with run_studio(log, "--backend", f"openai:{url}", env=env) as front_url:
        yield front_url, log


def test_one_studio_drives_another(doors_studio, front):
    url, _ = doors_studio
    front_url, log = front
    assert healthz(front_url)["model"] == "tiny-random" and healthz(front_url)["device"].startswith("openai:127.0.0.1")
    took = sf.read(Client(front_url, headers=API_HEADERS, verbose=False).predict(api_name="/synthesize", text="Relayed.", seed=6,
                                                            max_new_tokens=40, voice="warm-british-male"))[0]
    direct = sf.read(Client(url, headers=API_HEADERS, verbose=False).predict(api_name="/synthesize", text="Relayed.", seed=6,
                                                        max_new_tokens=40, voice="warm-british-male"))[0]
    assert len(took) == len(direct) and np.abs(took - direct).max() <= QUANTUM
    assert API_KEY not in log.read_text()


SCRIPT = "Alice: Hello Bob, how are you?\nBob: Fine, thanks.\n"


def _dialogue(url: str, **given) -> np.ndarray:
    path = Client(url, headers=API_HEADERS, verbose=False).predict(api_name="/dialogue", script=SCRIPT, seed=5, max_new_tokens=20,
                                              pause_s=0.5, voice_layout="separate", **given)[0]
    return sf.read(path)[0]


def test_a_dialogue_keeps_its_speakers_voices_from_studio_to_studio(doors_studio, front):
    """The front studio's /dialogue through `--backend openai:` carries each speaker's voice (a preset clip, a
    description), the pause and the layout: the far studio makes the very take it makes for the same dialogue
    asked of it directly. (The backend sent only the script's text before: a single take, not a dialogue.)"""
    url, _ = doors_studio
    front_url, _ = front
    alice, bob = {"Alice": "robot_en"}, {"Bob": "a calm, low voice with a slight rasp"}
    relayed = _dialogue(front_url, speakers=json.dumps({**alice, **bob}))
    direct = _dialogue(url, speakers=json.dumps({**alice, **bob}))
    assert len(direct) == 2 * 12 * 960 + 12_000  # two turns of 12 frames, one 0.5 s pause
    assert len(relayed) == len(direct) and np.abs(relayed - direct).max() <= QUANTUM
    # Each voice changes the take beyond 16-bit rounding (random weights listen to the prompt only a little).
    for fewer in (json.dumps(alice), json.dumps(bob), None):
        other = _dialogue(url, speakers=fewer)
        assert len(other) == len(direct) and np.count_nonzero(np.abs(other - direct) > QUANTUM) > 100, fewer


def test_the_cli_speaks_through_any_backend(doors_studio, tmp_path):
    url, _ = doors_studio
    out = tmp_path / "far.wav"
    env = {**os.environ, "HVS_BACKEND_API_KEY": API_KEY}
    run = subprocess.run([sys.executable, "-m", "inference", "Hello from the command line.", "--backend",
                          f"openai:{url}", "--out", str(out), "--max-new-tokens", "40", "--seed", "3"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert sf.info(out).samplerate == 24_000 and sf.info(out).frames == 32 * 960 and "seed 3" in run.stderr
    bad = subprocess.run([sys.executable, "-m", "inference", "Hi.", "--backend", "carrier-pigeon"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Unknown backend 'carrier-pigeon'" in bad.stderr


# ---- a plain OpenAI-compatible server: no extensions, voices of its own ------------------------------
@pytest.fixture
def plain_server() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []
    tone = (0.2 * np.sin(np.arange(24_000) / 24_000 * 2 * np.pi * 220) * 32767).astype("<i2").tobytes()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": "higgs-audio-v2-generation-3B-base",
                                                             "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "audio/pcm")
            self.send_header("Content-Length", str(len(tone)))
            self.end_headers()
            self.wfile.write(tone)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_plain_server_gets_openais_fields_and_a_clear_refusal_for_clips(plain_server, speech_wav):
    url, received = plain_server
    engine = OpenAISpeechEngine(url, voice="en_woman")
    engine.warm_up()
    result = engine.synthesize(SynthesisRequest.parse(text="Hello.", scene="Cheerful.", seed=5))
    assert received[-1] == {"model": "higgs-audio-v2-generation-3B-base", "input": "Hello.", "voice": "en_woman",
                            "instructions": "Cheerful.", "response_format": "pcm", "stream_format": "audio"}
    assert len(result.waveform) == 24_000 and not engine.is_noise
    assert any("its own settings were used" in w for w in result.warnings)
    with pytest.raises(InvalidRequest, match="does not take a reference clip.*Smart voice.*en_woman"):
        engine.synthesize(SynthesisRequest.parse(text="Hello.", reference_audio=speech_wav))
    assert len(received) == 1  # the refused take never reached the server


@pytest.mark.parametrize(("options", "missing"), [
    ({"speakers": {"Alice": {"description": "calm"}}}, "speakers"),
    ({"speakers": {}}, "speakers"),  # the script's names alone make it a dialogue
    ({"pause_s": 1.0}, "pause_s"),
    ({"voice_layout": "separate", "pause_s": 0.0}, "pause_s or voice_layout"),
])
def test_plain_server_refuses_a_dialogue_it_cannot_take(plain_server, options, missing):
    url, received = plain_server
    engine = OpenAISpeechEngine(url, voice="en_woman")
    engine.warm_up()
    script = "Alice: Hi Bob.\nBob: Hi." if "speakers" in options else "[SPEAKER0] Hi Bob.\n[SPEAKER1] Hi."
    with pytest.raises(InvalidRequest, match=f"cannot take this dialogue: it does not list {missing} among its "
                                             "extensions.*another Higgs Voice Studio"):
        engine.synthesize(SynthesisRequest.parse(text=script, **options))
    assert received == []  # refused before anything was sent
    engine.synthesize(SynthesisRequest.parse(text="[SPEAKER0] Hi Bob.\n[SPEAKER1] Hi."))  # tags alone: as before
    assert received[-1]["input"] == "[SPEAKER0] Hi Bob.\n[SPEAKER1] Hi." and received[-1]["voice"] == "en_woman"
    assert not {"speakers", "pause_s", "voice_layout"} & set(received[-1])


def test_the_backend_sends_a_dialogue_as_the_extensions_a_studio_lists(remote, speech_wav):
    """What the request body holds for another studio: the speakers' clips (base64), words and options."""
    request = SynthesisRequest.parse(text="Alice: Hi Bob.\nBob: Hi.", seed=3, pause_s=0.2, voice_layout="separate",
                                     speakers={"Alice": {"reference_audio": speech_wav, "reference_text": "Hello."},
                                               "Bob": {"description": "calm"}})
    body = remote._payload(request)[0].to_json()
    assert "voice" not in body and body["input"] == request.text and body["seed"] == 3
    assert body["pause_s"] == 0.2 and body["voice_layout"] == "separate"
    assert base64.b64decode(body["speakers"]["Alice"]["reference_audio"]) == speech_wav.read_bytes()
    assert body["speakers"]["Alice"]["reference_text"] == "Hello." and body["speakers"]["Bob"] == {"description": "calm"}
