"""The watermark, the detector and the take check through every door: the studio's API (gradio_client),
the CLI (a subprocess) and the serverless worker. Scoring models are tiny random-weight ones built here."""

from __future__ import annotations

import base64
import subprocess
import sys

import av
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from inference.audio.codec import AI_TAGS, decode_audio, encode_mp3
from inference.audio.watermark import Watermarker
from tests.conftest import OUTPUT, ROOT
from tests.studio_server import run_studio
from tests.tiny_speaker import build_tiny_speaker_model
from tests.tiny_whisper import build_tiny_whisper


@pytest.fixture(scope="module")
def scoring_models():
    return (build_tiny_whisper(OUTPUT / "cache" / "tiny-whisper-v1"),
            build_tiny_speaker_model(OUTPUT / "cache" / "tiny-speaker-v1"))


@pytest.fixture(scope="module")
def marked_mp3(speech_wav, tmp_path_factory):
    """Speech marked as the engine marks a take, as MP3 128k. (A tiny-random take is noise at about -35 dBFS,
    far quieter than speech: in a 16-bit file its mark is lost, so real speech stands in for a take here.)"""
    path = tmp_path_factory.mktemp("marked") / "marked.mp3"
    path.write_bytes(encode_mp3(Watermarker(True).mark(decode_audio(speech_wav), 24_000), bitrate=128_000))
    return path


@pytest.fixture(scope="module")
def studio(tmp_path_factory, scoring_models):
    folder = tmp_path_factory.mktemp("trust-studio")
    whisper, speaker = scoring_models
    with run_studio(folder / "server.log", "--asr-model", str(whisper), "--speaker-model", str(speaker)) as url:
        yield Client(url, verbose=False)


def test_api_take_is_tagged_and_detect_finds_the_mark_after_mp3(studio, speech_wav, marked_mp3):
    path = studio.predict(text="A marked take.", max_new_tokens=60, seed=4, api_name="/synthesize")
    with sf.SoundFile(path) as f:
        assert f.title == AI_TAGS["title"] and "AI-generated" in f.comment
    found = studio.predict(audio=handle_file(str(marked_mp3)), api_name="/detect")
    assert found["marked"] is True and found["confidence"] > 0.5
    plain = studio.predict(audio=handle_file(str(speech_wav)), api_name="/detect")
    assert plain["marked"] is False and plain["confidence"] < 0.5


def test_detect_refuses_bad_uploads_with_readable_errors(studio, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("this is not audio")
    with pytest.raises(AppError, match="not a supported audio format"):
        studio.predict(audio=handle_file(str(notes)), api_name="/detect")
    with pytest.raises(AppError, match="Upload or record a clip first"):
        studio.predict(audio=None, api_name="/detect")
    assert studio.predict(text="Still serving.", max_new_tokens=12, api_name="/synthesize")


def test_synthesize_checked_keeps_the_best_of_two_and_lists_both(studio, speech_wav):
    path, report = studio.predict(text="Best of two.", reference_audio=handle_file(str(speech_wav)),
                                  reference_text="Hello, this is my voice.", max_new_tokens=20, seed=8,
                                  candidates=2, api_name="/synthesize_checked")
    assert sf.info(path).samplerate == 24_000
    candidates = report["candidates"]
    assert [c["seed"] for c in candidates][0] == 8 and len(candidates) == 2
    kept = [c for c in candidates if c["kept"]]
    assert len(kept) == 1 and kept[0]["seed"] == report["kept_seed"]
    assert all(isinstance(c["words_right"], float) and isinstance(c["voice_similarity"], float) for c in candidates)
    with pytest.raises(AppError, match="candidates must be at most 4"):
        studio.predict(text="Too many.", candidates=5, api_name="/synthesize")


def test_cli_best_of_two_prints_scores_and_writes_a_tagged_mp3(tmp_path, speech_wav, scoring_models):
    whisper, speaker = scoring_models
    out = tmp_path / "take.mp3"
    run = subprocess.run([sys.executable, "-m", "inference", "Choose the best.", "--model", "tiny-random",
                          "--reference", str(speech_wav), "--out", str(out), "--max-new-tokens", "40", "--seed", "2",
                          "--candidates", "2", "--asr-model", str(whisper), "--speaker-model", str(speaker)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("take check, seed")]
    assert len(lines) == 2 and sum("(kept)" in line for line in lines) == 1
    assert all("words " in line and "voice similarity" in line for line in lines)
    with av.open(str(out)) as container:
        assert container.metadata["title"] == AI_TAGS["title"]
    refused = subprocess.run([sys.executable, "-m", "inference", "Hi.", "--candidates", "9"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "candidates must be at most 4" in refused.stderr


def test_worker_detect_job_check_and_candidates(engine, speech_wav, scoring_models, marked_mp3):
    from inference.scoring.take_check import SpeakerEncoder, TakeChecker
    from inference.scoring.transcribe import Transcriber
    from serverless.handler import Worker

    whisper, speaker = scoring_models
    worker = Worker(engine, checker=TakeChecker(Transcriber(str(whisper)), SpeakerEncoder(str(speaker))))
    b64 = base64.b64encode(speech_wav.read_bytes()).decode()
    (item,) = worker.run({"id": "d", "input": {"detect": b64}})
    assert item["type"] == "detect" and item["marked"] is False
    (take,) = worker.run({"id": "t", "input": {"text": "Best of two.", "reference_audio_base64": b64,
                                               "max_new_tokens": 20, "seed": 3, "candidates": 2, "output": "mp3"}})
    assert take["type"] == "result", take
    assert [c["seed"] for c in take["take_check"]["candidates"]][0] == 3 and take["seed"] == take["take_check"]["kept_seed"]
    assert take["format"] == "mp3" and take["audio_base64"]
    (found,) = worker.run({"id": "d2", "input": {"detect": base64.b64encode(marked_mp3.read_bytes()).decode()}})
    assert found["marked"] is True and found["confidence"] > 0.5
    (plain,) = worker.run({"id": "p", "input": {"text": "No check.", "max_new_tokens": 12}})
    assert "take_check" not in plain
    items = list(worker.run({"id": "s", "input": {"text": "Streamed and checked.", "max_new_tokens": 40,
                                                  "stream": True, "check": True}}))
    assert items[-1]["take_check"]["candidates"][0]["words_right"] is not None
    for bad, message in (({"detect": "%%%"}, "detect is not valid base64"),
                         ({"detect": 5}, "detect must be the audio"),
                         ({"detect": b64, "text": "x"}, "A detect job is exactly"),
                         ({"detect": base64.b64encode(b"noise" * 50).decode()}, "not a supported audio format"),
                         ({"text": "Hi.", "stream": True, "candidates": 2}, "stream cannot be combined"),
                         ({"text": "Hi.", "check": "yes"}, "check must be true or false")):
        (error,) = worker.run({"id": "bad", "input": bad})
        assert message in error["error"] and error["error_type"] == "invalid_request", error
    off = Worker(engine, checker=TakeChecker(None, None))
    (error,) = off.run({"id": "o", "input": {"text": "Hi.", "candidates": 2, "max_new_tokens": 12}})
    assert "Best of 2 needs the take check" in error["error"] and error["error_type"] == "studio_error"

