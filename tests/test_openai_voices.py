"""OpenAI's voice names (issue 23): the shipped table, the object form, an unconfigured OpenAI client, the
operator's own table (at the resolver, at the doors and at the roots), and the rest of the one voice rule."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import av
import httpx
import numpy as np
import pytest
from gradio_client import handle_file

from inference.contract.errors import BadSetting, InvalidRequest
from serverless.handler import build_worker
from studio.openai_voices import OPENAI_NAMES
from studio.voice_library import VoiceLibrary
from studio.voices import VoiceResolver, VoiceSpec
from tests.doors_support import API_KEY, OVERRIDE, write_override
from tests.studio_server import ROOT
from tests.voice_support import (
    EXPLICIT,
    LIBRARY,
    PRESETS,
    RESOLVER,
    ROBOT,
    SHIPPED,
    SHORT,
    TEXT,
    _fields,
    _same,
    _wav,
)


def _speech(doors, voice) -> np.ndarray:
    reply = httpx.post(f"{doors.url}/v1/audio/speech", timeout=120, headers={"Authorization": f"Bearer {API_KEY}"},
                       json={"model": "tts-1", "input": TEXT, "voice": voice, "response_format": "pcm", **SHORT})
    assert reply.status_code == 200, reply.text
    return np.frombuffer(reply.content, "<i2") / 32768


def test_every_openai_name_resolves_to_its_table_entry():
    assert set(SHIPPED) == set(OPENAI_NAMES)
    for name in OPENAI_NAMES:
        voice = RESOLVER.resolve(name)
        assert (voice.label, voice.reference_audio, voice.description) == (name, None, SHIPPED[name])
        assert RESOLVER.resolve(name.title()) == voice  # case does not matter
    # chosen for OpenAI's published character of each voice
    assert all(word in SHIPPED["onyx"] for word in ("deep", "male"))
    assert all(word in SHIPPED["nova"] for word in ("bright", "female"))
    assert all(word in SHIPPED["fable"] for word in ("British", "storyteller"))


def _table_rows(page: str) -> list[tuple[str, str]]:
    """A page's table rows "| `name` | words |" whose name is one of OpenAI's."""
    text = (ROOT / page).read_text(encoding="utf-8")
    return [row for row in re.findall(r"^\| `([\w-]+)` \| ([^|]+?) \|$", text, re.M) if row[0] in OPENAI_NAMES]


@pytest.mark.parametrize("page", ["README.md", "docs/voices.md"])
def test_the_documented_table_is_the_shipped_one(page):
    """README's "Works with OpenAI clients" and docs/voices.md show assets/openai_voices.json, row for row."""
    assert _table_rows(page) == list(SHIPPED.items())


def test_the_object_form_names_the_same_voice(doors):
    assert _same(_speech(doors, {"id": "alloy"}), doors.explicit_take("openai"))


def test_an_unconfigured_openai_client_gets_speech(doors):
    """What Open WebUI, SillyTavern and n8n send by default: OpenAI's model and voice names, nothing else."""
    speech = doors.openai.audio.speech.create(model="tts-1", voice="alloy", input="Hello from an OpenAI client.")
    assert speech.response.headers["content-type"] == "audio/mpeg"
    with av.open(io.BytesIO(speech.content)) as container:
        assert sum(frame.samples for frame in container.decode(audio=0)) > 24_000


def test_the_operators_table_at_the_doors(doors):
    """tests/doors_support.py starts the studio with HVS_OPENAI_VOICES: echo -> robot_en, ballad -> a clip."""
    assert _same(_speech(doors, "echo"), doors.explicit_take("preset"))
    mine = _wav(doors.gradio.predict(text=TEXT, reference_audio=handle_file(str(ROOT / "assets/voices/robot_gb.wav")),
                                     reference_text="A voice of my own.", api_name="/synthesize", **SHORT))
    named = _wav(doors.gradio.predict(text=TEXT, voice="ballad", api_name="/synthesize", **SHORT))
    assert _same(_speech(doors, "ballad"), mine) and _same(named, mine)


def test_an_override_file_replaces_and_adds_names(tmp_path):
    write_override(tmp_path)
    table = {"voices": {**OVERRIDE["voices"], "fable": "an old sea captain, gruff and slow", "sage": "smart",
                        "narrator2": "calm-narrator"}}
    (tmp_path / "openai_voices.json").write_text(json.dumps(table))
    voices = VoiceResolver(LIBRARY, PRESETS, tmp_path / "openai_voices.json")
    assert _fields(voices.resolve("echo")) == (ROBOT.audio_path, ROBOT.transcript, None)
    ballad = voices.resolve("ballad")
    assert _fields(ballad) == (tmp_path / "my_voice.wav", "A voice of my own.", None) and not ballad.is_own_clip
    assert voices.resolve("fable").description == "an old sea captain, gruff and slow"
    assert _fields(voices.resolve("sage")) == (None, None, None)
    assert voices.resolve("narrator2").description == PRESETS.voices["calm-narrator"].description
    assert voices.resolve("alloy").description == SHIPPED["alloy"]  # names the file leaves out stay
    assert "narrator2" in voices.unknown_message("x")
    listed = {entry.name: entry.maps_to for entry in voices.entries() if entry.kind == "openai"}
    assert listed["ballad"] == "clip my_voice.wav" and listed["echo"] == "robot_en"


@pytest.mark.parametrize(("table", "words"), [
    ("not json", "is not valid JSON"),
    ('["alloy"]', "must be a JSON object"),
    ('{"alloy": "nobody"}', "alloy maps to 'nobody', which names no preset or described voice here"),
    ('{"alloy": {"clip": "missing.wav"}}', "alloy names the clip 'missing.wav', which is not there"),
    ('{"alloy": 3}', "alloy must map to a voice name, words describing a voice, or"),
    ('{"two words": "smart"}', "'two words' is not a voice name"),
])
def test_a_bad_override_file_is_a_setting_error(tmp_path, table, words):
    path = tmp_path / "voices.json"
    path.write_text(table)
    with pytest.raises(BadSetting) as caught:
        VoiceResolver(LIBRARY, PRESETS, path)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_the_roots_read_the_operators_table(tmp_path):
    """The worker's root takes HVS_OPENAI_VOICES; a bad table is its answer to every job. The studio's root
    (app.py) ends at once with one line, before loading the model."""
    good = {"HVS_MODEL": "tiny-random", "HVS_DEVICE": "cpu", "HVS_OPENAI_VOICES": write_override(tmp_path)}
    worker = build_worker(good)
    assert worker.load_error is None and worker.voices.resolve("echo").reference_audio == ROBOT.audio_path
    (tmp_path / "bad.json").write_text('{"alloy": "nobody"}')
    (item,) = build_worker({**good, "HVS_OPENAI_VOICES": str(tmp_path / "bad.json")}).run({"input": {"text": "Hi."}})
    assert "alloy maps to 'nobody'" in item["error"]
    env = {**os.environ, "HVS_OPENAI_VOICES": str(tmp_path / "bad.json")}
    run = subprocess.run([sys.executable, "app.py", "--model", "tiny-random", "--port", "1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.strip().splitlines()[-1].startswith("error: The OpenAI voice table")


# ---- the rest of the rule -----------------------------------------------------------------------------------
def test_a_preset_named_like_an_openai_voice_is_that_preset(tmp_path):
    for suffix in (".wav", ".txt"):
        (tmp_path / f"alloy{suffix}").write_bytes((ROBOT.audio_path.with_suffix(suffix)).read_bytes())
    voices = VoiceResolver(VoiceLibrary(tmp_path), PRESETS)
    assert voices.resolve("alloy").reference_audio == tmp_path / "alloy.wav"
    assert voices.names().count("alloy") == 1


def test_clips_transcripts_and_descriptions():
    clip = ROBOT.audio_path.read_bytes()
    mine = RESOLVER.resolve(VoiceSpec(name="robot_en", clip=clip, clip_text=" mine "))  # the clip wins
    assert _fields(mine) == (clip, "mine", None) and mine.is_own_clip
    assert _fields(RESOLVER.resolve(VoiceSpec(name="alloy", clip=clip))) == (clip, None, SHIPPED["alloy"])
    both = RESOLVER.resolve(VoiceSpec(name="robot_en", description="calm-narrator"))
    assert _fields(both) == (ROBOT.audio_path, ROBOT.transcript, EXPLICIT["described"][2])
    for spec, words in [(VoiceSpec(name="robot_en", clip_text="x"), "cannot be combined with the preset voice"),
                        (VoiceSpec(name="alloy", description="loud"), "give either its name or a description"),
                        (VoiceSpec(name=3), "A voice name must be text")]:
        with pytest.raises(InvalidRequest, match=words):
            RESOLVER.resolve(spec)
