"""The wire models (wire/): every one serialises to JSON and parses back to itself, the sender's job and speech
body parse on the receiving end into the request that was sent, and the models stay light (no torch)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from backends.runpod_input import job_input
from inference.contract.errors import InvalidRequest
from inference.contract.request import SamplingOptions, SynthesisRequest
from inference.contract.result import Segment
from serverless.job import parse_job
from tests.conftest import ROOT
from wire.openai_speech import EXTENSIONS, SpeechBody, SpeechSpeaker
from wire.runpod_job import DetectJob, HealthJob, SpeakerInput, TakeInput
from wire.runpod_output import (
    ChunkOutput,
    DetectOutput,
    ErrorOutput,
    HealthOutput,
    PromptOutput,
    ResultOutput,
    TimingsOutput,
)

SCRIPT = "Alice: Hello Bob.\nBob: Hello Alice [laugh].\n"


def _over_the_wire(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_a_dialogue_job_with_a_clip_travels_whole(speech_wav):
    request = SynthesisRequest.parse(
        text=SCRIPT, seed=8, pause_s=0.5, voice_layout="separate", scene="A radio studio.", top_k=9, parts="sentence",
        speakers={"Alice": {"reference_audio": speech_wav, "reference_text": "Hello, this is my voice."},
                  "Bob": {"description": "a calm, low voice"}})
    sent = _over_the_wire(job_input(request))
    job = TakeInput.model_validate(sent)
    assert job.to_json() == sent and job.is_dialogue
    assert isinstance(job.speakers["Alice"], SpeakerInput) and job.speakers["Bob"].description == "a calm, low voice"
    received = parse_job(sent).request
    assert received.speakers["Alice"].reference_audio == speech_wav.read_bytes()
    assert received.model_dump(exclude={"speakers"}) == request.model_dump(exclude={"speakers"})
    assert {name: v.model_dump(exclude={"reference_audio"}) for name, v in received.speakers.items()} == \
        {name: v.model_dump(exclude={"reference_audio"}) for name, v in request.speakers.items()}


def test_a_single_take_job_travels_whole(speech_wav):
    request = SynthesisRequest.parse(text="Hi. Bye.", reference_audio=speech_wav, reference_text="Hello.", seed=1, parts="sentence",
                                     temperature=0.2, max_new_tokens=30)
    sent = _over_the_wire(job_input(request))
    assert TakeInput.model_validate(sent).to_json() == sent and "script" not in sent
    received = parse_job(sent).request
    assert received.reference_audio == speech_wav.read_bytes()
    assert received.model_dump(exclude={"reference_audio"}) == request.model_dump(exclude={"reference_audio"})
    worker_options = TakeInput.model_validate({"text": "Hi.", "output": "MP3", "s3_prefix": "a/b", "check": True})
    assert TakeInput.model_validate(_over_the_wire(worker_options.to_json())) == worker_options
    assert worker_options.s3_prefix == "a/b/" and worker_options.content_type == "audio/mpeg"


def test_health_and_detect_jobs_parse_back():
    assert HealthJob.model_validate(_over_the_wire(HealthJob(health=True).model_dump())) == HealthJob(health=True)
    detect = DetectJob(detect="UklGRg==")
    assert DetectJob.model_validate(_over_the_wire(detect.model_dump())) == detect


OUTPUTS = [
    ChunkOutput(index=2, start_s=0.96, duration_s=0.48, audio_base64="UklGRg==", part=2, parts=3),
    ResultOutput(audio_base64="UklGRg==", bytes=6, duration_s=1.2, seed=5, model="tiny-random",
                 timings=TimingsOutput(generate_s=1.5, audio_s=1.2, total_s=1.5, real_time_factor=1.25),
                 warnings=["a warning"], segments=[Segment(0.0, 0.48, "Hello Bob.", "Alice")],
                 subtitles={"vtt": "WEBVTT\n\n", "srt": ""}, take_check={"kept_seed": 5, "candidates": []}),
    ResultOutput(storage="s3", audio_url="https://bucket.example/take.wav", s3_bucket="b", s3_key="k.wav",
                 url_expires_in_s=3600, format="mp3", content_type="audio/mpeg"),
    ResultOutput(audio_in_chunks=True, warnings=["too large"]),
    PromptOutput(prompt="<|begin_of_text|>...", audio_frames=120, warnings=["no transcript"]),
    HealthOutput(status="draining", engine={"model": "tiny-random", "device": "cpu"}, storage={"s3": False},
                 voices=["robot_en"], runpod="1.7"),
    HealthOutput(status="error", load_error="out of memory"),
    DetectOutput(marked=True, confidence=0.93),
    ErrorOutput(error="Unknown preset voice 'x'.", error_type="invalid_request"),
]


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda o: type(o).__name__)
def test_every_output_parses_back(output):
    sent = _over_the_wire(output.to_json())
    assert type(output).read(sent) == output


def test_unset_outputs_stay_out_of_the_json():
    result = ResultOutput(audio_base64="UklGRg==").to_json()
    assert "audio_url" not in result and "take_check" not in result and "audio_in_chunks" not in result
    assert HealthOutput().to_json()["load_error"] is None  # health always says whether loading failed


def test_an_answer_in_the_wrong_shape_is_a_readable_error():
    from inference.contract.errors import StudioError

    with pytest.raises(StudioError, match="unexpected shape: audio_base64 is required"):
        ChunkOutput.read({"type": "chunk"})
    with pytest.raises(InvalidRequest, match="^Unknown preset voice"):
        ErrorOutput.read({"error": "Unknown preset voice 'x'.", "error_type": "invalid_request"}).raise_error()


def test_a_speech_body_with_speakers_parses_back():
    body = SpeechBody(model="tts-1", input=SCRIPT, response_format="pcm", seed=4, top_k=20, pause_s=0.5,
                      voice_layout="separate",
                      speakers={"Alice": SpeechSpeaker(reference_audio="UklGRg==", reference_text="Hi."),
                                "Bob": SpeechSpeaker(voice="robot_en"), "Carol": SpeechSpeaker(description="calm")})
    sent = _over_the_wire(body.to_json())
    assert "speed" not in sent and "voice" not in sent  # only what was given
    again = SpeechBody.read(sent)
    assert again == body and again.to_json() == sent and again.model_extra == {"seed": 4, "top_k": 20,
                                                                               "pause_s": 0.5,
                                                                               "voice_layout": "separate"}


@pytest.mark.parametrize(("body", "message"), [
    ({"speakers": ["Alice"]}, "speakers must be an object of speaker name -> voice"),
    ({"speakers": {"Alice": "robot_en"}}, "speakers.Alice must be an object"),
    ({"speakers": {"Alice": {"clip": 0}}}, "Unknown field 'clip' in speakers.Alice (allowed: description, "
                                           "reference_audio, reference_text, voice)"),
    ({"speakers": {"Alice": {"voice": 3}}}, "speakers.Alice: Invalid request: voice has the wrong type"),
])
def test_bad_speakers_in_a_speech_body(body, message):
    with pytest.raises(InvalidRequest) as refused:
        SpeechBody.read({"input": SCRIPT, **body})
    assert message in str(refused.value)


def test_every_request_option_has_a_place_on_the_wire():
    """A sampling option added to the contract must be added to the job and the speech extensions too."""
    assert set(SamplingOptions.model_fields) <= set(TakeInput.model_fields)
    assert set(SamplingOptions.model_fields) | {"seed", "speakers", "pause_s", "voice_layout"} <= set(EXTENSIONS)


def test_the_wire_needs_no_torch_and_no_web_framework():
    code = ("import sys, wire.runpod_job, wire.runpod_output, wire.openai_speech, wire.fetch; "
            "print(sorted({'torch', 'gradio', 'fastapi', 'transformers'} & {m.split('.')[0] for m in sys.modules}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


def test_break_test_findings_get_sentences():
    """From a break-test: a speaker's voice in OpenAI's object form, an empty detect job, a huge number."""
    from inference.contract.errors import InvalidRequest
    from inference.contract.request import SynthesisRequest
    from wire.openai_speech import SpeechBody
    from wire.runpod_job import DetectJob

    body = SpeechBody.read({"input": "A: Hi.\nB: Yo.", "speakers": {"A": {"voice": {"id": "nova"}}}})
    assert body.speakers["A"].voice == "nova"
    with pytest.raises(InvalidRequest, match="got an empty string"):
        DetectJob.model_validate({"detect": "  "})
    with pytest.raises(InvalidRequest, match="seed is far too large"):
        SynthesisRequest.parse(text="Hi.", seed=1e308)


def test_null_speech_options_mean_their_defaults():
    # as null does for seed, temperature, pause_s... (and at the other doors): 'speed has the wrong type (got None)'
    body = SpeechBody.read({"input": "Hi.", "response_format": None, "speed": None, "stream_format": None})
    assert (body.response_format, body.speed, body.stream_format) == ("mp3", 1.0, "audio")
