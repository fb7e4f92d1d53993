"""The worker end to end through the runpod SDK's local API server (`--rp_serve_api`) with tiny-random."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from inference.audio.codec import decode_audio
from tests.worker_support import post, runsync

JOB = {"text": "Hello from the worker.", "max_new_tokens": 25, "seed": 11}


def _audio(item: dict) -> bytes:
    assert item["type"] == "result" and item["storage"] == "base64", item.keys()
    return base64.b64decode(item["audio_base64"])


def test_health_job(worker_url):
    (health,) = runsync(worker_url, {"health": True})
    assert health["status"] == "ok" and health["load_error"] is None
    assert health["engine"]["model"] == "tiny-random" and health["engine"]["loaded"] and health["engine"]["warmed"]
    assert health["storage"] == {"s3": False}
    assert health["voices"] == ["tester"]


def test_sync_job_returns_playable_base64_wav(worker_url):
    (result,) = runsync(worker_url, JOB)
    audio = _audio(result)
    assert audio[:4] == b"RIFF" and len(audio) == result["bytes"]
    waveform = decode_audio(audio)
    assert result["sample_rate"] == 24_000 and result["format"] == "wav" and result["content_type"] == "audio/wav"
    assert abs(len(waveform) / 24_000 - result["duration_s"]) < 0.01 and result["duration_s"] > 0
    assert result["seed"] == 11 and result["model"] == "tiny-random"
    assert set(result["timings"]) >= {"generate_s", "decode_s", "total_s", "real_time_factor"}
    assert any("noise" in w for w in result["warnings"])
    # Same seed, same take.
    (again,) = runsync(worker_url, JOB)
    assert again["audio_base64"] == result["audio_base64"]


def test_async_job_run_then_status(worker_url):
    queued = post(worker_url, "run", {"input": {**JOB, "output": "mp3"}})
    assert queued["status"] == "IN_PROGRESS" and queued["id"]
    done = post(worker_url, f"status/{queued['id']}")
    assert done["status"] == "COMPLETED", done
    (result,) = done["output"]
    audio = _audio(result)
    assert result["format"] == "mp3" and result["content_type"] == "audio/mpeg"
    assert len(decode_audio(audio)) > 0
    assert post(worker_url, f"status/{queued['id']}")["error"] == "Job ID not found"  # consumed


def test_streamed_job_chunks_add_up_to_the_take(worker_url):
    job = {**JOB, "text": "A longer text that streams in pieces.", "max_new_tokens": 70, "stream": True}
    queued = post(worker_url, "run", {"input": job})
    streamed = post(worker_url, f"stream/{queued['id']}")
    assert streamed["status"] == "COMPLETED"
    items = [part["output"] for part in streamed["stream"]]
    chunks, final = items[:-1], items[-1]
    assert len(chunks) >= 2 and all(c["type"] == "chunk" for c in chunks)
    joined = np.concatenate([decode_audio(base64.b64decode(c["audio_base64"])) for c in chunks])
    whole = decode_audio(_audio(final))
    assert len(joined) == len(whole)
    assert np.abs(joined - whole).max() <= 2 / 32768  # 16-bit: a step or two where the windowed decode rounds apart
    assert [c["index"] for c in chunks] == list(range(len(chunks)))


@pytest.mark.parametrize("reference", ["voice", "base64", "url"])
def test_reference_voice_three_ways(worker_url, file_server, speech_wav, reference):
    given = {"voice": {"voice": "tester"},
             "base64": {"reference_audio_base64": base64.b64encode(speech_wav.read_bytes()).decode(),
                        "reference_text": "Hello, this is my voice."},
             "url": {"reference_audio_url": f"{file_server}/speech.wav"}}[reference]
    (result,) = runsync(worker_url, {**JOB, "max_new_tokens": 20, **given})
    assert len(decode_audio(_audio(result))) > 0
    assert result["timings"]["reference_s"] > 0
    if reference == "url":
        assert any("No transcript" in w for w in result["warnings"])


BAD = [
    ({"txt": "typo"}, "Unknown field 'txt'"),
    ({"text": ""}, "no text to speak"),
    ({"text": "Hi.", "top_p": 0}, "top_p must be more than 0"),
    ({"text": "Hi.", "output": "flac"}, "output must be one of wav, mp3"),
    ({"text": "Hi.", "voice": "nobody"}, "Unknown voice 'nobody'. Give a voice name (smart, tester, "),
    ({"text": "Hi.", "reference_audio_url": "file:///etc/passwd"}, "http:// or https://"),
    ({"text": "Hi.", "reference_audio_base64": "%%%"}, "not valid base64"),
    ({"text": "Hi.", "reference_audio_base64": base64.b64encode(b"not audio" * 50).decode()}, "Could not read"),
    ({"health": "yes"}, 'exactly {"health": true}'),
]


@pytest.mark.parametrize(("job_input", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_job_comes_back_as_a_readable_error(worker_url, job_input, message):
    (item,) = runsync(worker_url, job_input)  # the local API reports generator errors as an output item
    assert set(item) == {"error", "error_type"} and message in item["error"], item
    assert item["error_type"] == "invalid_request"


def test_a_bad_job_does_not_spoil_the_next(worker_url):
    runsync(worker_url, {"text": "Hi.", "reference_audio_base64": base64.b64encode(b"\0" * 4000).decode()})
    (result,) = runsync(worker_url, {**JOB, "max_new_tokens": 15})
    assert result["type"] == "result"


def test_concurrent_jobs_are_batched_on_one_worker(worker_url):
    """The worker takes several jobs at once (async handler): their takes generate in one batch, and
    each equals the same job run alone."""
    import threading

    jobs = [{**JOB, "text": f"Job number {seed} on a shared worker.", "seed": seed, "max_new_tokens": 200}
            for seed in (31, 32)]
    alone = [runsync(worker_url, job)[0]["audio_base64"] for job in jobs]
    together: list = [None, None]

    def run(index):
        together[index] = runsync(worker_url, jobs[index])[0]["audio_base64"]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert together == alone
    (health,) = runsync(worker_url, {"health": True})
    assert health["engine"]["peak_batch"] >= 2 and health["engine"]["max_batch"] >= 2
