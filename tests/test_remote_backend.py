"""The studio's remote backend (`--backend runpod:...`) driving the real worker through the local API server."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from backends import build_engine
from backends.runpod import RemoteEngine
from backends.runpod_input import job_input
from inference import SynthesisRequest
from inference.contract.errors import InvalidRequest, ModelLoadError, StudioError
from settings import Settings
from tests.processes import free_port


@pytest.fixture(scope="module")
def remote(worker_url) -> RemoteEngine:
    engine = build_engine(backend=f"runpod:{worker_url}")
    assert isinstance(engine, RemoteEngine)
    engine.load()
    engine.warm_up()
    return engine


def test_status_reports_the_workers_model(remote):
    status = remote.status()
    assert status["model"] == "tiny-random" and status["backend"] == "runpod"
    assert status["loaded"] and status["warmed"] and not status["busy"] and status["noise"]
    assert remote.is_noise and remote.model_id.startswith("runpod:127.0.0.1:")


def test_remote_take_equals_the_local_take(remote, engine, speech_wav):
    request = SynthesisRequest.parse(text="Same seed, same take.", reference_audio=speech_wav,
                                     reference_text="Hello, this is my voice.", scene="A quiet room.",
                                     max_new_tokens=20, seed=3, temperature=0.9)
    far = remote.synthesize(request)
    near = engine.synthesize(request)
    assert far.sample_rate == near.sample_rate == 24_000 and far.seed == 3
    assert len(far.waveform) == len(near.waveform) > 0
    np.testing.assert_allclose(far.waveform, near.waveform, atol=1.5 / 32767)  # 16-bit wav in between
    assert far.timings.generate_s > 0 and far.timings.audio_s == pytest.approx(far.duration_s)
    assert far.warnings == near.warnings and far.model_id.startswith("tiny-random (runpod:")


def test_stream_brings_the_workers_chunks(remote):
    request = SynthesisRequest.parse(text="Streamed from far away.", max_new_tokens=60, seed=2)
    chunks = list(remote.stream(request))
    assert len(chunks) >= 3 and all(c.result is None for c in chunks[:-1])
    result = chunks[-1].result
    assert result is not None and len(chunks[-1].waveform) == 0 and result.seed == 2
    joined = np.concatenate([c.waveform for c in chunks])
    assert len(joined) == len(result.waveform)
    np.testing.assert_allclose(joined, result.waveform, atol=0.05)  # chunk edges vs the whole-take decode
    assert remote.status()["pending"] == 0


def test_prompt_is_rendered_by_the_worker(remote, engine):
    request = SynthesisRequest.parse(text="Show me the prompt.", scene="Outdoors.")
    assert remote.render_prompt(request).rendered == engine.render_prompt(request).rendered


def test_worker_side_input_error_is_an_invalid_request(remote):
    silent = np.zeros(24_000 * 2, np.float32)
    from inference.audio.codec import encode_wav

    with pytest.raises(InvalidRequest, match="silent"):
        remote.synthesize(SynthesisRequest.parse(text="Hi.", reference_audio=encode_wav(silent), max_new_tokens=20))
    assert remote.status()["pending"] == 0


def test_job_input_matches_the_worker_schema(speech_wav):
    from serverless.job import parse_job

    request = SynthesisRequest.parse(text="Hi.", reference_audio=speech_wav, reference_text="Hello.", top_k=7, seed=9)
    parsed = parse_job(job_input(request))
    assert parsed.request.reference_audio == speech_wav.read_bytes()
    assert parsed.request.sampling == request.sampling and parsed.request.seed == 9


def test_endpoint_id_needs_an_api_key():
    settings = Settings.from_env({"HVS_RUNPOD_BASE_URL": "https://example.invalid/v2/"})  # no RUNPOD_API_KEY
    engine = build_engine(backend="runpod:abc123xyz", **settings.remote_options("runpod:abc123xyz"))
    assert engine.url == "https://example.invalid/v2/abc123xyz"
    with pytest.raises(ModelLoadError, match="RUNPOD_API_KEY is not set"):
        engine.load()
    with pytest.raises(ModelLoadError, match="Bad RunPod endpoint"):
        build_engine(backend="runpod:not/an id")


def test_unreachable_endpoint():
    engine = RemoteEngine(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StudioError, match="Could not reach"):
        engine.synthesize(SynthesisRequest.parse(text="Hi."))


# ---- RunPod's hosted API semantics the SDK's local server does not have: queueing, GET /status, auth -----
class _HostedApi(BaseHTTPRequestHandler):
    """Answers like api.runpod.ai/v2/<id>: /runsync may return IN_QUEUE, then GET /status/<job> is polled."""

    script: list[dict] = []
    seen: list[tuple[str, str, str]] = []

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.seen.append((self.command, self.path, self.headers.get("Authorization", "")))
        status, payload = self.script.pop(0) if self.script else (500, {})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        del body

    do_GET = do_POST = _reply  # noqa: N815

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hosted() -> Iterator[Callable[..., RemoteEngine]]:
    """A RemoteEngine factory for endpoint42 on a fake hosted API, with the key and base URL the settings give."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostedApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _HostedApi.script, _HostedApi.seen = [], []
    settings = Settings.from_env({"HVS_RUNPOD_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v2",
                                  "RUNPOD_API_KEY": "rp-test-key"})
    try:
        yield functools.partial(RemoteEngine, "endpoint42", **settings.remote_options("runpod:endpoint42"))
    finally:
        server.shutdown()
        server.server_close()


def test_queued_job_is_polled_until_done(hosted):
    from inference.audio.codec import encode_wav

    wav = encode_wav(np.full(2400, 0.25, np.float32))
    import base64

    final = {"type": "result", "storage": "base64", "audio_base64": base64.b64encode(wav).decode(),
             "sample_rate": 24000, "seed": 77, "model": "bosonai/higgs", "timings": {"generate_s": 1.5},
             "warnings": []}
    _HostedApi.script = [(200, {"id": "job-1", "status": "IN_QUEUE"}), (200, {"id": "job-1", "status": "IN_PROGRESS"}),
                         (200, {"id": "job-1", "status": "COMPLETED", "output": [final]})]
    engine = hosted(poll_s=0.01)
    result = engine.load().synthesize(SynthesisRequest.parse(text="Hi."))
    assert result.seed == 77 and len(result.waveform) == 2400 and result.timings.generate_s == 1.5
    assert [(m, p) for m, p, _ in _HostedApi.seen] == [
        ("POST", "/v2/endpoint42/runsync"), ("GET", "/v2/endpoint42/status/job-1"), ("GET", "/v2/endpoint42/status/job-1")]
    assert all(auth == "Bearer rp-test-key" for _, _, auth in _HostedApi.seen)
    assert "rp-test-key" not in repr(engine)


@pytest.mark.parametrize(("reply", "error", "message"), [
    ((401, {"error": "unauthorized"}), ModelLoadError, "check RUNPOD_API_KEY"),
    ((404, {}), ModelLoadError, "no endpoint endpoint42"),
    ((200, {"id": "j", "status": "FAILED", "error": "Unknown preset voice 'x'"}), StudioError, "ended failed: Unknown"),
    ((200, {"id": "j", "status": "COMPLETED", "output": []}), StudioError, "returned no result"),
])
def test_hosted_api_errors(hosted, reply, error, message):
    _HostedApi.script = [reply]
    with pytest.raises(error, match=message):
        hosted().synthesize(SynthesisRequest.parse(text="Hi."))


def test_queued_job_times_out(hosted):
    _HostedApi.script = [(200, {"id": "j", "status": "IN_QUEUE"})] + [(200, {"id": "j", "status": "IN_QUEUE"})] * 50
    with pytest.raises(StudioError, match="did not finish within"):
        hosted(timeout_s=0.2, poll_s=0.05).synthesize(SynthesisRequest.parse(text="Hi."))


def _wav_b64(n: int, value: float) -> str:
    import base64

    from inference.audio.codec import encode_wav

    return base64.b64encode(encode_wav(np.full(n, value, np.float32))).decode()


def test_hosted_stream_is_polled_incrementally(hosted):
    chunk = {"type": "chunk", "sample_rate": 24000, "audio_base64": _wav_b64(480, 0.1)}
    final = {"type": "result", "storage": "base64", "audio_base64": _wav_b64(960, 0.1), "sample_rate": 24000,
             "seed": 1, "model": "m", "timings": {}, "warnings": []}
    _HostedApi.script = [
        (200, {"id": "s1", "status": "IN_QUEUE"}),
        (200, {"status": "IN_QUEUE", "stream": []}),
        (200, {"status": "IN_PROGRESS", "stream": [{"output": chunk}]}),
        (200, {"status": "IN_PROGRESS", "stream": [{"output": chunk}, {"output": final}]}),
    ]
    chunks = list(hosted(poll_s=0.01).stream(SynthesisRequest.parse(text="Hi.")))
    assert [len(c.waveform) for c in chunks] == [480, 480, 0] and chunks[-1].result.seed == 1
    assert [(m, p) for m, p, _ in _HostedApi.seen] == [("POST", "/v2/endpoint42/run")] + [
        ("GET", "/v2/endpoint42/stream/s1")] * 3


def test_hosted_stream_stopped_early_cancels_the_job(hosted):
    chunk = {"type": "chunk", "sample_rate": 24000, "audio_base64": _wav_b64(480, 0.1)}
    _HostedApi.script = [(200, {"id": "s2", "status": "IN_QUEUE"}),
                         (200, {"status": "IN_PROGRESS", "stream": [{"output": chunk}]}),
                         (200, {"id": "s2", "status": "CANCELLED"})]
    stream = hosted(poll_s=0.01).stream(SynthesisRequest.parse(text="Hi."))
    next(stream)
    stream.close()
    assert _HostedApi.seen[-1][:2] == ("POST", "/v2/endpoint42/cancel/s2")


def test_the_studio_drives_the_worker(worker_url, speech_wav, tmp_path):
    """`python app.py --backend runpod:<worker>`: a take through the studio's API comes from the worker."""
    import soundfile as sf
    from gradio_client import Client, handle_file

    from tests.studio_server import healthz, run_studio

    with run_studio(tmp_path / "app.log", "--backend", f"runpod:{worker_url}", "--asr-model", "none") as url:
        health = healthz(url)
        assert health["status"] == "ok" and health["model"] == "tiny-random" and health["device"].startswith("runpod:")
        client = Client(f"{url}/", verbose=False)
        path = client.predict(text="Through the studio to the worker.", reference_audio=handle_file(str(speech_wav)),
                              reference_text="Hello, this is my voice.", seed=11, max_new_tokens=25,
                              api_name="/synthesize")
        audio, rate = sf.read(path)
        assert rate == 24_000 and len(audio) > 0


def test_the_studio_streams_a_take_from_the_worker(remote, tmp_path):
    """The page's path (Studio.generate over engine.stream) with the remote backend: pieces, then the take."""
    from studio.outcomes import Finished
    from studio.service import Studio
    from studio.takes import TakeStore

    studio = Studio(remote, takes=TakeStore(tmp_path))
    request = SynthesisRequest.parse(text="Streamed into the page.", max_new_tokens=60, seed=2)
    out = list(studio.generate(request, "smart voice", []))
    pieces, finished = out[:-1], out[-1]
    assert len(pieces) >= 2 and all(isinstance(p, bytes) and p[:4] == b"RIFF" for p in pieces)
    assert isinstance(finished, Finished) and finished.path.is_file() and finished.result.seed == 2


def test_hosted_stream_whose_final_item_has_no_audio(hosted):
    chunk = {"type": "chunk", "sample_rate": 24000, "audio_base64": _wav_b64(480, 0.1)}
    final = {"type": "result", "storage": "base64", "audio_in_chunks": True, "sample_rate": 24000, "seed": 1,
             "model": "m", "timings": {}, "warnings": ["too large"]}
    _HostedApi.script = [(200, {"id": "s3", "status": "IN_QUEUE"}),
                         (200, {"status": "COMPLETED", "stream": [{"output": chunk}, {"output": chunk},
                                                                  {"output": final}]})]
    chunks = list(hosted(poll_s=0.01).stream(SynthesisRequest.parse(text="Hi.")))
    assert len(chunks[-1].result.waveform) == 960 and chunks[-1].result.timings.audio_s == 0.04


def test_a_take_whose_caller_goes_is_cancelled_on_runpod(hosted):
    """The studio's API passes a cancel event; setting it (the caller disconnected) cancels the RunPod job."""
    from inference.contract.errors import Cancelled

    _HostedApi.script = [(200, {"id": "c1", "status": "IN_QUEUE"})] + [
        (200, {"id": "c1", "status": "IN_PROGRESS"})] * 200 + [(200, {"id": "c1", "status": "CANCELLED"})]
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    engine = hosted(poll_s=0.02)
    with pytest.raises(Cancelled):
        engine.synthesize(SynthesisRequest.parse(text="Hi."), cancel=cancel)
    calls = [(m, p) for m, p, _ in _HostedApi.seen]
    assert calls[0] == ("POST", "/v2/endpoint42/run") and calls[-1] == ("POST", "/v2/endpoint42/cancel/c1")
    assert engine.status()["busy"] is False
