"""The worker's job loop in-process: a model that cannot load, a crash inside a job, and isolation between jobs."""

from __future__ import annotations

import pytest

from backends import build_engine
from serverless.handler import Worker, build_worker


def test_model_that_cannot_load_is_reported_by_every_job(tmp_path):
    worker = Worker(build_engine(model_id=str(tmp_path / "missing-checkpoint"), device="cpu")).start()
    assert worker.load_error
    (health,) = worker.run({"id": "h", "input": {"health": True}})
    assert health["status"] == "error" and health["load_error"] == worker.load_error and "error" not in health
    (item,) = worker.run({"id": "j", "input": {"text": "Hi."}})
    assert item["error"].startswith("The worker's model is not available") and item["error_type"] == "studio_error"


def test_a_crash_in_one_job_does_not_take_the_worker_down(engine, monkeypatch):
    worker = Worker(engine)
    calls = {"n": 0}
    real = engine.synthesize

    def flaky(request, cancel=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("CUDA error: an illegal memory access (simulated)")
        return real(request)

    monkeypatch.setattr(engine, "synthesize", flaky)
    (first,) = worker.run({"id": "a", "input": {"text": "Hi.", "max_new_tokens": 10}})
    assert first == {"error": "The worker hit an internal error (RuntimeError); the job failed, the worker is still "
                              "running.", "error_type": "internal"}
    (second,) = worker.run({"id": "b", "input": {"text": "Hi.", "max_new_tokens": 10, "seed": 4}})
    assert second["type"] == "result" and second["seed"] == 4


@pytest.mark.parametrize(("env", "reason"), [
    ({"HVS_MODEL": "tiny-random", "HVS_DEVICE": "cuda"}, "no CUDA GPU is available"),
    ({"HVS_MODEL": "tiny-random", "HVS_DEVICE": "tpu"}, "Unknown device 'tpu'"),
    ({"HVS_MODEL": "tiny-random", "HVS_S3_BUCKET": "b", "HVS_S3_ATTEMPTS": "50"}, "HVS_S3_ATTEMPTS must be between"),
    ({"HVS_MODEL": "tiny-random", "HVS_S3_BUCKET": "b", "HVS_S3_URL_EXPIRY": "soon"}, "must be a number"),
])
def test_settings_that_cannot_work_are_reported_by_every_job(env, reason):
    worker = build_worker(env).start()
    (health,) = worker.run({"id": "h", "input": {"health": True}})
    assert health["status"] == "error" and reason in health["load_error"], health
    assert health["engine"] == {"loaded": False}
    (item,) = worker.run({"id": "j", "input": {"text": "Hi."}})
    assert "misconfigured" in item["error"] and reason in item["error"] and item["error_type"] == "studio_error"


def test_a_misconfigured_worker_still_shows_its_storage():
    worker = build_worker({"HVS_MODEL": "tiny-random", "HVS_DEVICE": "cuda", "HVS_S3_BUCKET": "my-bucket"}).start()
    (health,) = worker.run({"id": "h", "input": {"health": True}})
    assert health["storage"]["s3"] is True and health["storage"]["bucket"] == "my-bucket"


def test_a_failure_while_warming_up_is_kept_not_raised(engine, monkeypatch):
    def out_of_memory():
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(engine, "warm_up", out_of_memory)
    worker = Worker(engine).start()
    assert worker.load_error == "RuntimeError: CUDA out of memory (simulated)"
    (item,) = worker.run({"id": "j", "input": {"text": "Hi."}})
    assert "out of memory" in item["error"]


@pytest.mark.parametrize("job", [{}, {"id": "x"}, {"id": "x", "input": None}])
def test_job_without_input(engine, job):
    (item,) = Worker(engine).run(job)
    assert "must be a JSON object" in item["error"]


def test_s3_key_uses_a_safe_job_id(engine):
    class Recorder:
        keys: list[str] = []

        def deliver(self, audio, content_type, key):
            self.keys.append(key)
            return {"storage": "base64", "audio_base64": ""}, []

        def describe(self):
            return {"s3": False}

    recorder = Recorder()
    worker = Worker(engine, storage=recorder)  # type: ignore[arg-type]
    list(worker.run({"id": "../../etc/x y", "input": {"text": "Hi.", "max_new_tokens": 10, "seed": 4, "s3_prefix": "p"}}))
    assert recorder.keys == ["p/.._.._etc_x_y.wav"]


def test_test_input_mode_runs_the_generator_handler(engine, monkeypatch, capsys):
    import json

    from serverless import handler

    monkeypatch.setattr(handler, "_worker", Worker(engine))
    assert handler.main(["--test_input", '{"input": {"text": "Hi.", "max_new_tokens": 10, "seed": 4}}']) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert result["type"] == "result" and result["storage"] == "base64"
    assert handler.main(['--test_input={"input": {"health": true, "x": 1}}']) == 1
    assert "health job is exactly" in json.loads(capsys.readouterr().out)[0]["error"]


def test_long_streamed_take_leaves_the_audio_in_the_chunks(engine, monkeypatch):
    import base64

    from inference.audio.codec import decode_audio
    from serverless import worker

    monkeypatch.setattr(worker, "STREAM_OUTPUT_LIMIT", 1000)
    items = list(Worker(engine).run({"id": "s", "input": {"text": "Hi there.", "max_new_tokens": 40, "seed": 4,
                                                          "stream": True}}))
    chunks, final = items[:-1], items[-1]
    assert chunks and final["type"] == "result" and final["audio_in_chunks"] and "audio_base64" not in final
    assert "join the chunks" in final["warnings"][-1]
    total = sum(len(decode_audio(base64.b64decode(c["audio_base64"]))) for c in chunks)
    assert abs(total / 24_000 - final["duration_s"]) < 0.01


def test_a_plain_result_never_exceeds_runpods_output_cap(engine, monkeypatch):
    """Without S3 a long take came back as 20.9 MB of base64, which RunPod drops. Here the cap is scaled
    down to this short take: WAV over it goes as MP3, and a take over it even as MP3 is refused."""
    import base64

    from serverless import worker as handler  # the Worker and its output limits

    job = {"text": "Hi.", "max_new_tokens": 40, "seed": 2}
    (plain,) = Worker(engine).run({"id": "a", "input": job})
    wav_chars = len(plain["audio_base64"])
    monkeypatch.setattr(handler, "INLINE_OUTPUT_LIMIT", wav_chars - 1)
    (smaller,) = Worker(engine).run({"id": "b", "input": job})
    assert smaller["format"] == "mp3" and smaller["content_type"] == "audio/mpeg"
    assert len(smaller["audio_base64"]) < wav_chars and base64.b64decode(smaller["audio_base64"])[:3] in (b"ID3", b"\xff\xfb")
    assert any("20 MB output cap" in w for w in smaller["warnings"])
    monkeypatch.setattr(handler, "INLINE_OUTPUT_LIMIT", 1000)
    (refused,) = Worker(engine).run({"id": "c", "input": job})
    assert refused["error_type"] == "studio_error" and "configure S3" in refused["error"] and '"stream": true' in refused["error"]


def test_a_draining_worker_refuses_new_jobs_and_says_so(engine):
    worker = Worker(engine)
    worker.draining.set()  # what SIGTERM does (serverless/handler.py: _drain_on_sigterm)
    (item,) = worker.run({"id": "late", "input": {"text": "Hi.", "max_new_tokens": 10}})
    assert item["error_type"] == "studio_error" and "shutting down" in item["error"]
    (health,) = worker.run({"id": "h", "input": {"health": True}})
    assert health["status"] == "draining"


def test_a_cancelled_job_stops_its_take(engine, monkeypatch):
    """RunPod cancels a job's task (a cancel request, a timeout, a shutdown): the take ran on in its thread
    to max_new_tokens, holding a place in the batch for nobody."""
    import asyncio
    import contextlib

    from serverless import handler

    worker = Worker(engine)
    worker.drain_installed = True  # no SIGTERM handler in the test process
    monkeypatch.setattr(handler, "_worker", worker)
    job = {"id": "c", "input": {"text": "A long take nobody waits for.", "max_new_tokens": 3000, "seed": 5}}

    async def cancel_mid_take() -> bool:
        async def consume():
            async for _ in handler.handler(job):
                pass

        task = asyncio.create_task(consume())
        for _ in range(3000):  # bounded: until the take generates
            await asyncio.sleep(0.01)
            if engine.status()["generating"]:
                break
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for _ in range(300):  # bounded: 3 s
            if not engine.status()["busy"]:
                return True
            await asyncio.sleep(0.01)
        return False

    assert asyncio.run(cancel_mid_take()), "the cancelled job's take kept generating"


def test_a_job_without_a_length_is_4_s_on_the_noise_model(engine):
    """A job that gave no max_new_tokens ran 2048 steps (82 s of noise) on tiny-random; the studio's one rule
    (studio/lengths.py) keeps it to the page's short default, streamed or not. A given length is kept."""
    from studio.lengths import NOISE_MAX_TOKENS

    seconds = (NOISE_MAX_TOKENS - 8) * 0.04  # 3.68 s: the stream-start row and 7 delay rows hold no frame
    (plain,) = Worker(engine).run({"id": "n", "input": {"text": "Hi.", "seed": 1}})
    assert plain["duration_s"] == pytest.approx(seconds, abs=0.05), plain
    *_, streamed = Worker(engine).run({"id": "s", "input": {"text": "Hi.", "seed": 1, "stream": True}})
    assert streamed["duration_s"] == pytest.approx(seconds, abs=0.05), streamed
    (given,) = Worker(engine).run({"id": "g", "input": {"text": "Hi.", "seed": 1, "max_new_tokens": 40}})
    assert given["duration_s"] == pytest.approx(32 * 0.04, abs=0.05)


def test_test_input_that_is_no_job_is_one_error_line(capsys):
    """`--test_input 'not json'` printed a traceback (a break-test found it); it is the usual error item now."""
    import json

    from serverless import handler

    for raw in ("not json", "[1, 2]"):
        assert handler.main(["--test_input", raw]) == 1
        outputs = json.loads(capsys.readouterr().out)
        assert outputs[0]["error_type"] == "invalid_request" and "JSON object" in outputs[0]["error"]
