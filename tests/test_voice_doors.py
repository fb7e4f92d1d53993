"""One voice rule at every door (issues 18 and 23). Each kind of voice -- smart, a preset, a described voice's
name, words, one of OpenAI's names, an unknown single word -- goes through each door: the resolver, the page's
picker, /synthesize (gradio_client), /dialogue, /v1/audio/speech (the openai client), MCP, the CLI and the
worker. A door used the right voice when its take (or its prompt) equals the one made with that voice given
explicitly (its clip uploaded, or its words in the scene); an unknown name gets one message everywhere."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

import av
import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
from gradio_client import Client, handle_file

from inference.contract.errors import BadSetting, InvalidRequest
from inference.contract.request import SynthesisRequest
from serverless.handler import Worker, build_worker
from studio.openai_voices import OPENAI_NAMES
from studio.scene import ScenePresets
from studio.service import Studio
from studio.voice_library import VoiceLibrary
from studio.voices import VoiceResolver, VoiceSpec
from tests.doors_support import API_KEY, OVERRIDE, write_override
from tests.studio_server import ROOT
from ui.dialogue import voice_of_choice
from ui.errors import readable

PRESETS = ScenePresets.load()
LIBRARY = VoiceLibrary()
RESOLVER = VoiceResolver(LIBRARY, PRESETS)  # the shipped voices, as every door below has them
SHIPPED = json.loads((ROOT / "assets" / "openai_voices.json").read_text())["voices"]
ROBOT = LIBRARY.get("robot_en")
WORDS = "a tiny, squeaky mouse voice"
KINDS = {"smart": "smart", "preset": "robot_en", "described": "calm-narrator", "words": WORDS, "openai": "alloy",
         "unknown": "nobody"}
# Each kind given explicitly: (clip, its transcript, words for the scene).
EXPLICIT = {"smart": (None, None, None), "preset": (ROBOT.audio_path, ROBOT.transcript, None),
            "described": (None, None, PRESETS.voices["calm-narrator"].description), "words": (None, None, WORDS),
            "openai": (None, None, SHIPPED["alloy"])}
MESSAGE = RESOLVER.unknown_message("nobody")
TEXT = "Hello there, this is a voice."
SCRIPT = "Alice: Hello there, this is a voice."
SHORT = {"max_new_tokens": 12, "seed": 5}
MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")  # OpenAI's model names are all accepted


class Refused(Exception):
    """A door's refusal, as its caller reads it."""


def _scene(words: str | None) -> str | None:
    return f"The speaker's voice: {words}." if words else None


def _wav(data) -> np.ndarray:
    return sf.read(data if not isinstance(data, bytes) else io.BytesIO(data))[0]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal takes: 16-bit audio on both sides (one 16-bit step apart at most)."""
    return len(a) == len(b) and len(a) > 0 and float(np.abs(a - b).max()) <= 1.01 / 32768


@dataclass
class Doors:
    url: str
    gradio: Client
    openai: openai.OpenAI
    engine: object
    worker: Worker
    studio: Studio
    takes: dict = field(default_factory=dict)

    def explicit_take(self, kind: str, dialogue: bool = False) -> np.ndarray:
        """The take with the kind's voice given explicitly (at /synthesize, or /dialogue)."""
        if (kind, dialogue) not in self.takes:
            clip, transcript, words = EXPLICIT[kind]
            if dialogue:
                voice = {"clip": 0, "reference_text": transcript} if clip else words or ""
                path = self.gradio.predict(script=SCRIPT, speakers=json.dumps({"Alice": voice}), api_name="/dialogue",
                                           clips=[handle_file(str(clip))] if clip else [], **SHORT)[0]
            else:
                fields = {"reference_audio": handle_file(str(clip)), "reference_text": transcript} if clip else {}
                path = self.gradio.predict(text=TEXT, scene=_scene(words), api_name="/synthesize", **fields, **SHORT)
            self.takes[kind, dialogue] = _wav(path)
        return self.takes[kind, dialogue]

    def explicit_prompt(self, kind: str) -> tuple[str, int]:
        clip, transcript, words = EXPLICIT[kind]
        prompt = self.engine.render_prompt(SynthesisRequest.parse(text=TEXT, reference_audio=clip,
                                                                  reference_text=transcript, scene=_scene(words)))
        return prompt.rendered, prompt.audio_frames


@pytest.fixture(scope="module")
def doors(doors_studio, engine) -> Doors:
    url, _ = doors_studio
    return Doors(url, Client(url, verbose=False),
                 openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0, timeout=120), engine,
                 Worker(engine, voices=RESOLVER), Studio(engine, resolver=RESOLVER))


# ---- the doors: each returns what it made of a voice name, or raises Refused with its caller's text ---------
def _fields(voice) -> tuple:
    return voice.reference_audio, voice.reference_text, voice.description


def resolver_door(d: Doors, name: str):
    try:
        return _fields(RESOLVER.resolve(name)), EXPLICIT
    except InvalidRequest as err:
        raise Refused(str(err)) from None


def page_door(d: Doors, name: str):
    """The Dialogue tab's speaker picker, a name typed into it (the Voice tab's panel: test_ui_units.py)."""
    try:
        return _fields(voice_of_choice(d.studio, name, None, None, [])), EXPLICIT
    except InvalidRequest as err:
        raise Refused(readable(err)) from None  # the page's (and Gradio's) text for the failure


def _app_error(call):
    try:
        return call()
    except Exception as err:  # noqa: BLE001 - gradio_client's AppError: its message is what the caller reads
        raise Refused(str(err)) from None


def synthesize_door(d: Doors, name: str):
    path = _app_error(lambda: d.gradio.predict(text=TEXT, voice=name, api_name="/synthesize", **SHORT))
    return _wav(path), d.explicit_take


def dialogue_door(d: Doors, name: str):
    path = _app_error(lambda: d.gradio.predict(script=SCRIPT, speakers=json.dumps({"Alice": name}), **SHORT,
                                               api_name="/dialogue")[0])
    return _wav(path), lambda kind: d.explicit_take(kind, dialogue=True)


def openai_door(d: Doors, name: str):
    model = MODELS[sum(map(ord, name)) % len(MODELS)]
    try:
        speech = d.openai.audio.speech.create(model=model, voice=name, input=TEXT, response_format="pcm",
                                              extra_body=SHORT)
    except openai.BadRequestError as err:
        raise Refused(err.body["message"]) from None
    return np.frombuffer(speech.content, "<i2") / 32768, d.explicit_take


async def _mcp_call(url: str, arguments: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(f"{url}/gradio_api/mcp/") as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        return await session.call_tool("synthesize", arguments)


def mcp_door(d: Doors, name: str):
    result = asyncio.run(_mcp_call(d.url, {"text": TEXT, "voice": name, **SHORT}))
    text = " ".join(c.text for c in result.content if c.type == "text")
    if result.isError:
        raise Refused(text)
    link = text[text.index("http"):].split()[0]
    return _wav(httpx.get(link, timeout=30).content), d.explicit_take


def cli_door(d: Doors, name: str):
    run = subprocess.run([sys.executable, "-m", "inference", TEXT, "--voice", name, "--model", "tiny-random",
                          "--show-prompt"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if run.returncode:
        raise Refused(run.stderr.strip().splitlines()[-1])
    frames = re.search(r"reference audio: (\d+) frames", run.stderr)
    return (run.stdout.strip(), int(frames.group(1)) if frames else 0), \
        lambda kind: (d.explicit_prompt(kind)[0].strip(), d.explicit_prompt(kind)[1])


def worker_door(d: Doors, name: str):
    (item,) = d.worker.run({"id": "voices", "input": {"text": TEXT, "voice": name, "prompt_only": True}})
    if "error" in item:
        raise Refused(item["error"])
    return (item["prompt"], item["audio_frames"]), d.explicit_prompt


DOORS = {"resolver": (resolver_door, MESSAGE), "page": (page_door, MESSAGE),
         "synthesize": (synthesize_door, MESSAGE), "dialogue": (dialogue_door, MESSAGE),
         "openai": (openai_door, MESSAGE), "mcp": (mcp_door, MESSAGE),
         "cli": (cli_door, f"error: {MESSAGE}"), "worker": (worker_door, MESSAGE)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("door", DOORS)
def test_every_kind_of_voice_at_every_door(doors, door, kind):
    go, refusal = DOORS[door]
    if kind == "unknown":
        with pytest.raises(Refused) as caught:
            go(doors, KINDS[kind])
        assert str(caught.value) == refusal  # word for word; the CLI adds its "error: "
        return
    made, expected = go(doors, KINDS[kind])
    wanted = expected[kind] if isinstance(expected, dict) else expected(kind)
    if isinstance(made, np.ndarray):
        assert _same(made, wanted), f"{door} did not use the {kind} voice"
    else:
        assert made == wanted


def test_the_explicit_takes_differ(doors):
    """Each voice makes its own take, so the equalities above say which voice a door used."""
    takes = {kind: doors.explicit_take(kind) for kind in EXPLICIT}
    for i, a in enumerate(takes):
        for b in list(takes)[i + 1:]:
            assert not _same(takes[a], takes[b]), (a, b)


def test_the_unknown_name_message_lists_every_choice():
    assert MESSAGE.startswith("Unknown voice 'nobody'.")
    for name in ("smart", "robot_en", "robot_gb", "calm-narrator", *SHIPPED):
        assert f"{name}," in MESSAGE or f"{name})" in MESSAGE
    assert "describe the voice in a few words" in MESSAGE


# ---- a dialogue's speakers at the CLI and the worker, and whole takes there ---------------------------------
FOUR = "Alice: One.\nBob: Two.\nCarol: Three.\nDave: Four."
FOUR_VOICES = {"Alice": "robot_en", "Bob": "calm-narrator", "Carol": WORDS, "Dave": "alloy"}


def _four_explicit(engine) -> tuple[str, int]:
    speakers = {"Alice": {"reference_audio": ROBOT.audio_path, "reference_text": ROBOT.transcript},
                "Bob": {"description": EXPLICIT["described"][2]}, "Carol": {"description": WORDS},
                "Dave": {"description": SHIPPED["alloy"]}}
    prompt = engine.render_prompt(SynthesisRequest.parse(text=FOUR, speakers=speakers))
    return prompt.rendered, prompt.audio_frames


def test_worker_speakers_and_a_whole_take(doors):
    speakers = {name: {"voice": voice} for name, voice in FOUR_VOICES.items()}
    (item,) = doors.worker.run({"id": "d", "input": {"script": FOUR, "speakers": speakers, "prompt_only": True}})
    assert (item["prompt"], item["audio_frames"]) == _four_explicit(doors.engine)
    (refused,) = doors.worker.run({"id": "r", "input": {"script": FOUR, "speakers": {"Bob": {"voice": "nobody"}}}})
    assert refused["error"] == f"speakers.Bob: {MESSAGE}"
    (take,) = doors.worker.run({"id": "t", "input": {"text": TEXT, "voice": "alloy", **SHORT}})
    assert _same(_wav(base64.b64decode(take["audio_base64"])), doors.explicit_take("openai"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inference", *args, "--model", "tiny-random"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_cli_speakers_and_a_whole_take(doors, tmp_path):
    script = tmp_path / "four.txt"
    script.write_text(FOUR)
    flags = [arg for name, voice in FOUR_VOICES.items() for arg in ("--speaker", f"{name}={voice}")]
    run = _cli("--script", str(script), *flags, "--show-prompt")
    assert run.returncode == 0, run.stderr
    rendered, frames = _four_explicit(doors.engine)
    assert run.stdout.strip() == rendered.strip() and f"reference audio: {frames} frames" in run.stderr
    refused = _cli("--script", str(script), "--speaker", "Bob=nobody")
    assert refused.returncode == 2 and refused.stderr.strip() == f"error: --speaker Bob=nobody: {MESSAGE}"
    misplaced = _cli("--script", str(script), "--voice", "alloy")
    assert misplaced.returncode == 2 and "--voice is for a single take" in misplaced.stderr
    out = tmp_path / "alloy.wav"
    run = _cli(TEXT, "--voice", "alloy", "--max-new-tokens", "12", "--seed", "5", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert _same(_wav(out), doors.explicit_take("openai"))


# ---- OpenAI's names (issue 23) ------------------------------------------------------------------------------
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


def test_the_object_form_names_the_same_voice(doors):
    body = {"model": "tts-1", "input": TEXT, "voice": {"id": "alloy"}, "response_format": "pcm", **SHORT}
    reply = httpx.post(f"{doors.url}/v1/audio/speech", json=body, timeout=120,
                       headers={"Authorization": f"Bearer {API_KEY}"})
    assert reply.status_code == 200, reply.text
    assert _same(np.frombuffer(reply.content, "<i2") / 32768, doors.explicit_take("openai"))


def test_an_unconfigured_openai_client_gets_speech(doors):
    """What Open WebUI, SillyTavern and n8n send by default: OpenAI's model and voice names, nothing else."""
    speech = doors.openai.audio.speech.create(model="tts-1", voice="alloy", input="Hello from an OpenAI client.")
    assert speech.response.headers["content-type"] == "audio/mpeg"
    with av.open(io.BytesIO(speech.content)) as container:
        assert sum(frame.samples for frame in container.decode(audio=0)) > 24_000


def test_the_operators_table_at_the_doors(doors):
    """tests/doors_support.py starts the studio with HVS_OPENAI_VOICES: echo -> robot_en, ballad -> a clip."""
    assert _same(openai_door(doors, "echo")[0], doors.explicit_take("preset"))
    mine = _wav(doors.gradio.predict(text=TEXT, reference_audio=handle_file(str(ROOT / "assets/voices/robot_gb.wav")),
                                     reference_text="A voice of my own.", api_name="/synthesize", **SHORT))
    assert _same(openai_door(doors, "ballad")[0], mine) and _same(synthesize_door(doors, "ballad")[0], mine)


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
