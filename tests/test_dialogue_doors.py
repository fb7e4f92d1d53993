"""A two-speaker take through each front door: the CLI, the worker (runpod SDK's local API) and its job
parsing; the studio's /dialogue API is in tests/test_ui_dialogue.py."""

from __future__ import annotations

import base64
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from cli.main import main
from inference.contract.errors import InvalidRequest
from serverless.job import parse_job
from studio.voice_library import VoiceLibrary
from studio.voices import VoiceResolver
from tests.conftest import ROOT
from tests.worker_support import runsync

SCRIPT = "Alice: Hello Bob, how are you?\nBob: Fine, thanks [laugh].\n"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "inference", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_script_with_two_cloned_voices_and_subtitles(tmp_path, speech_wav):
    script = tmp_path / "dialogue.txt"
    script.write_text(SCRIPT)
    out, vtt = tmp_path / "talk.wav", tmp_path / "take.vtt"
    run = cli("--script", str(script), "--speaker", f"Alice={speech_wav}", "--speaker-text",
              "Alice=Hello, this is my voice.", "--speaker", f"Bob={speech_wav}", "--out", str(out),
              "--subtitles", str(vtt), "--model", "tiny-random", "--max-new-tokens", "20", "--seed", "2",
              "--pause", "0.25")
    assert run.returncode == 0, run.stderr
    data, rate = sf.read(out)
    assert rate == 24_000 and len(data) == 2 * 12 * 960 + 6000  # two turns of 12 frames, one 0.25 s pause
    assert vtt.read_text() == ("WEBVTT\n\n00:00:00.000 --> 00:00:00.480\n<v Alice>Hello Bob, how are you?\n\n"
                               "00:00:00.730 --> 00:00:01.210\n<v Bob>Fine, thanks [laugh].\n")
    assert "wrote" in run.stderr and "(2 cues)" in run.stderr


# In-process from here on (the same main() as `python -m inference`): no interpreter start per case.
def test_cli_show_prompt_for_a_script_and_subtitles_for_a_single_take(tmp_path, capsys):
    script = tmp_path / "d.txt"
    script.write_text(SCRIPT)
    assert main(["--script", str(script), "--speaker-description", "Bob=warm, low male voice", "--show-prompt",
                 "--model", "tiny-random", "--quiet"]) == 0
    shown = capsys.readouterr().out
    assert "SPEAKER0: feminine\nSPEAKER1: warm, low male voice\n<|scene_desc_end|>" in shown
    assert "[SPEAKER0] Hello Bob, how are you?<|eot_id|>" in shown
    srt = tmp_path / "single.srt"
    assert main(["Just one voice.", "--out", str(tmp_path / "one.wav"), "--subtitles", str(srt), "--model",
                 "tiny-random", "--max-new-tokens", "20", "--quiet"]) == 0
    assert srt.read_text() == "1\n00:00:00,000 --> 00:00:00,480\nJust one voice.\n"


def test_cli_reads_a_script_saved_with_a_byte_order_mark(tmp_path, capsys):
    """Windows Notepad starts UTF-8 files with a BOM; it read as part of the first speaker's name."""
    script = tmp_path / "bom.txt"
    script.write_bytes(SCRIPT.encode("utf-8-sig"))
    assert main(["--script", str(script), "--show-prompt", "--model", "tiny-random", "--quiet"]) == 0
    assert "[SPEAKER0] Hello Bob, how are you?<|eot_id|>" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["--speaker", "Alice"], "--speaker takes NAME=VALUE"),
    (["--speaker", "Alice=nope_voice"], "--speaker Alice=nope_voice: Unknown voice 'nope_voice'. Give a voice name (smart, robot_en"),
    (["--speaker-text", "Alice=hi"], "--speaker-text Alice=... needs a clip"),
    (["--subtitles", "x.txt"], "--subtitles must end in .vtt or .srt"),
    (["--speaker", "Alice=robot_en", "--speaker", "Alice=robot_gb"], "--speaker gives Alice twice"),  # was: last won
])
def test_cli_dialogue_mistakes(tmp_path, capsys, args, message):
    script = tmp_path / "d.txt"
    script.write_text(SCRIPT)
    assert main(["--script", str(script), *args, "--model", "tiny-random", "--out", str(tmp_path / "x.wav")]) == 2
    assert message in capsys.readouterr().err


def test_cli_five_speakers_and_misplaced_flags_are_one_clear_line(tmp_path, capsys):
    script = tmp_path / "five.txt"
    script.write_text("A: one.\nB: two.\nC: three.\nD: four.\nE: five.\n")
    assert main(["--script", str(script), "--model", "tiny-random"]) == 2
    err = capsys.readouterr().err
    assert "The script has 5 speakers (A, B, C, D, E); at most 4" in err and len(err.strip().splitlines()) == 1
    assert main(["Hello.", "--pause", "1"]) == 2
    assert "--pause and --voice-layout go with --script" in capsys.readouterr().err
    assert main(["Hello.", "--script", str(script)]) == 2
    assert "Give either a TEXT or --script, not both" in capsys.readouterr().err


def test_worker_dialogue_job_with_base64_and_preset_voices(worker_url, speech_wav):
    clip = base64.b64encode(speech_wav.read_bytes()).decode()
    (result,) = runsync(worker_url, {
        "script": SCRIPT, "max_new_tokens": 20, "seed": 5, "pause_s": 0.5,
        "speakers": {"Alice": {"reference_audio_base64": clip, "reference_text": "Hello, this is my voice."},
                     "Bob": {"voice": "tester"}, "Carol": {"description": "loud"}}})
    assert result["type"] == "result", result
    assert result["duration_s"] == pytest.approx(2 * 0.48 + 0.5)
    assert [(s["speaker"], s["start_s"], s["end_s"]) for s in result["segments"]] == [
        ("Alice", 0.0, 0.48), ("Bob", 0.98, 1.46)]
    assert result["subtitles"]["vtt"].startswith("WEBVTT\n\n00:00:00.000 --> 00:00:00.480\n<v Alice>Hello Bob")
    assert "2\n00:00:00,980 --> 00:00:01,460\nBob: Fine, thanks [laugh].\n" in result["subtitles"]["srt"]
    assert any("'Carol', who never speaks" in w for w in result["warnings"])
    (single,) = runsync(worker_url, {"text": "One voice.", "max_new_tokens": 20})
    assert single["subtitles"]["srt"] == "1\n00:00:00,000 --> 00:00:00,480\nOne voice.\n"


def test_worker_dialogue_errors(worker_url):
    (item,) = runsync(worker_url, {"script": "A: 1.\nB: 2.\nC: 3.\nD: 4.\nE: 5."})
    assert item["error_type"] == "invalid_request" and "The script has 5 speakers" in item["error"]


@pytest.mark.parametrize(("job", "message"), [
    ({"script": SCRIPT, "text": "x"}, "Give either 'text' or 'script'"),
    ({"script": SCRIPT, "voice": "tester"}, "A dialogue takes a voice per speaker in 'speakers', not voice"),
    ({"script": SCRIPT, "speakers": ["Alice"]}, "speakers must be an object of speaker name -> voice"),
    ({"script": SCRIPT, "speakers": {"Alice": "tester"}}, "speakers.Alice must be an object"),
    ({"script": SCRIPT, "speakers": {"Alice": {"clip": "x"}}}, "Unknown field 'clip' in speakers.Alice"),
    ({"script": SCRIPT, "speakers": {"Alice": {"voice": "nobody"}}}, "speakers.Alice: Unknown voice 'nobody'. Give a voice name (smart, tester, "),
    ({"script": SCRIPT, "speakers": {"Bob": {"reference_audio_base64": "!!"}}},
     "speakers.Bob: reference_audio_base64 is not valid base64"),
    ({"script": SCRIPT, "speakers": {"Bob": {"voice": "tester", "reference_text": "x"}}},
     "speakers.Bob: A transcript cannot be combined with the preset voice 'tester'"),
    ({"script": "", "speakers": {}}, "there is no text to speak"),
    ({"script": "Music: la la."}, "is also a sound-effect tag ([music])"),
])
def test_bad_dialogue_jobs(voices_dir, job, message):
    with pytest.raises(InvalidRequest) as caught:
        parse_job(job, VoiceResolver(VoiceLibrary(voices_dir)))
    assert message in str(caught.value)


def test_dialogue_job_parses_to_one_request(voices_dir):
    parsed = parse_job({"script": SCRIPT, "speakers": {"Bob": {"voice": "tester"}, "Alice": {"description": "calm"}},
                        "voice_layout": "separate"}, VoiceResolver(VoiceLibrary(voices_dir)))
    request = parsed.request
    assert request.is_dialogue and request.voice_layout == "separate" and request.text == SCRIPT
    assert request.speakers["Bob"].reference_audio == voices_dir / "tester.wav"
    assert request.speakers["Bob"].reference_text.startswith("Hello, this is my voice.")
    assert request.speakers["Alice"].description == "calm"


def test_remote_backend_sends_a_dialogue_to_the_worker(worker_url, engine, speech_wav):
    from backends import build_engine
    from inference import SynthesisRequest

    remote = build_engine(backend=f"runpod:{worker_url}").load()
    request = SynthesisRequest.parse(text=SCRIPT, speakers={"Alice": {"reference_audio": speech_wav},
                                                            "Bob": {"description": "calm"}},
                                     max_new_tokens=20, seed=6, pause_s=0.1)
    far, near = remote.synthesize(request), engine.synthesize(request)
    assert far.segments == near.segments and far.chunks == 2
    np.testing.assert_allclose(far.waveform, near.waveform, atol=1.5 / 32767)  # 16-bit wav in between
