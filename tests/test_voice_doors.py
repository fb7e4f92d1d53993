"""One voice rule at every door (issues 18 and 23). Each kind of voice -- smart, a preset, a described voice's
name, words, one of OpenAI's names, an unknown single word -- goes through each door: the resolver, the page's
picker, /synthesize (gradio_client), /dialogue, /v1/audio/speech (the openai client), MCP, the CLI and the
worker. A door used the right voice when its take (or its prompt) equals the one made with that voice given
explicitly (its clip uploaded, or its words in the scene); an unknown name gets one message everywhere."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import subprocess
import sys

import httpx
import numpy as np
import openai
import pytest

from inference.contract.errors import InvalidRequest
from inference.contract.request import SynthesisRequest
from studio.openai_voices import OPENAI_NAMES
from tests.doors_support import API_HEADERS, OVERRIDE
from tests.lora_support import DOORS_VOICE, doors_trained
from tests.studio_server import ROOT
from tests.voice_support import (
    EXPLICIT,
    KINDS,
    MESSAGE,
    MODELS,
    RESOLVER,
    ROBOT,
    SCRIPT,
    SHIPPED,
    SHORT,
    TEXT,
    WORDS,
    Doors,
    _fields,
    _same,
    _wav,
)
from ui.dialogue import voice_of_choice
from ui.errors import readable

CLI_ENV = {**os.environ, "HVS_TRAINED_DIR": str(doors_trained())}  # the CLI knows the studio's trained voice


class Refused(Exception):
    """A door's refusal, as its caller reads it."""


# ---- the doors: each returns what it made of a voice name, or raises Refused with its caller's text ---------
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


_MODELS = itertools.cycle(MODELS)


def openai_door(d: Doors, name: str):
    model = next(_MODELS)  # each of OpenAI's model names in turn: all are accepted
    try:
        speech = d.openai.audio.speech.create(model=model, voice=name, input=TEXT, response_format="pcm",
                                              extra_body=SHORT)
    except openai.BadRequestError as err:
        raise Refused(err.body["message"]) from None
    return np.frombuffer(speech.content, "<i2") / 32768, d.explicit_take


async def _mcp_call(url: str, arguments: dict):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(f"{url}/gradio_api/mcp/", headers=API_HEADERS) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        return await session.call_tool("synthesize", arguments)


def mcp_door(d: Doors, name: str):
    result = asyncio.run(_mcp_call(d.url, {"text": TEXT, "voice": name, **SHORT}))
    text = " ".join(c.text for c in result.content if c.type == "text")
    if result.isError:
        raise Refused(text)
    link = text[text.index("http"):].split()[0]
    return _wav(httpx.get(link, headers=API_HEADERS, timeout=30).content), d.explicit_take


def cli_door(d: Doors, name: str):
    run = subprocess.run([sys.executable, "-m", "inference", TEXT, "--voice", name, "--model", "tiny-random",
                          "--show-prompt"], cwd=ROOT, capture_output=True, text=True, timeout=300, env=CLI_ENV)
    if run.returncode:
        raise Refused(run.stderr.strip().splitlines()[-1])
    frames = re.search(r"reference audio: (\d+) frames", run.stderr)
    return (run.stdout.strip(), int(frames.group(1)) if frames else 0), d.explicit_prompt


def worker_door(d: Doors, name: str):
    (item,) = d.worker.run({"id": "voices", "input": {"text": TEXT, "voice": name, "prompt_only": True}})
    if "error" in item:
        raise Refused(item["error"])
    return (item["prompt"].strip(), item["audio_frames"]), d.explicit_prompt


DOORS = {"resolver": (resolver_door, MESSAGE), "page": (page_door, MESSAGE),
         "synthesize": (synthesize_door, MESSAGE), "dialogue": (dialogue_door, f"speakers.Alice: {MESSAGE}"),
         "openai": (openai_door, MESSAGE), "mcp": (mcp_door, MESSAGE),
         "cli": (cli_door, f"error: {MESSAGE}"), "worker": (worker_door, MESSAGE)}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("door", DOORS)
def test_every_kind_of_voice_at_every_door(doors, door, kind):
    go, refusal = DOORS[door]
    if kind == "unknown":
        with pytest.raises(Refused) as caught:
            go(doors, KINDS[kind])
        assert str(caught.value) == refusal  # word for word; the CLI adds "error: ", a dialogue the speaker
        return
    made, expected = go(doors, KINDS[kind])
    wanted = expected[kind] if isinstance(expected, dict) else expected(kind)
    if isinstance(made, np.ndarray):
        assert _same(made, wanted), f"{door} did not use the {kind} voice"
    else:
        assert made == wanted


def test_the_explicit_takes_differ(doors):
    """Each voice makes its own take, so the equalities above say which voice a door used."""
    for dialogue in (False, True):
        takes = {kind: doors.explicit_take(kind, dialogue) for kind in EXPLICIT}
        for i, a in enumerate(takes):
            for b in list(takes)[i + 1:]:
                assert not _same(takes[a], takes[b]), (a, b, dialogue)


def test_the_unknown_name_message_lists_every_choice():
    assert MESSAGE.startswith("Unknown voice 'nobody'.")
    for name in ("smart", "robot_en", "robot_gb", "calm-narrator", *SHIPPED):
        assert f"{name}," in MESSAGE or f"{name})" in MESSAGE
    assert "describe the voice in a few words" in MESSAGE


# ---- each of OpenAI's names (issue 23), not only alloy, at each door that takes a voice name -------------------
def _cli_prompt(d: Doors, name: str) -> tuple[str, int]:
    """The CLI's --voice, in process: its flags to the request it would make (the process: cli_door above)."""
    from cli.main import build_parser
    from cli.take import take_request
    from settings import Settings
    from studio.take_request import engine_request
    from studio.voices import resolver_for

    voices = resolver_for(Settings.from_env(CLI_ENV))
    request = engine_request(take_request(build_parser().parse_args([TEXT, "--voice", name]), voices), voices)
    prompt = d.engine.render_prompt(request)
    return prompt.rendered.strip(), prompt.audio_frames


def test_every_openai_name_at_every_door(doors):
    """The page's picker, the worker and the CLI (the shipped table) give each name's words as its scene; the
    served doors (/synthesize, /v1, MCP) give the take made with what the name maps to on that server, whose
    operator's table makes echo a preset and ballad a clip (tests/doors_support.py)."""
    served = {name: (None, None, words) for name, words in SHIPPED.items()}
    served["echo"] = (ROBOT.audio_path, ROBOT.transcript, None)
    served["ballad"] = (ROOT / "assets" / "voices" / "robot_gb.wav", OVERRIDE["voices"]["ballad"]["transcript"], None)
    takes = {}
    for name in OPENAI_NAMES:
        words = (None, None, SHIPPED[name])
        assert page_door(doors, name)[0] == words, name
        assert worker_door(doors, name)[0] == _cli_prompt(doors, name) == doors.prompt_with(*words), name
        takes[name] = doors.take_with(*served[name])
        for door in (synthesize_door, openai_door, mcp_door):
            assert _same(door(doors, name)[0], takes[name]), f"{door.__name__} {name}"
    assert len({take.tobytes() for take in takes.values()}) == len(OPENAI_NAMES)  # each name its own take


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
                          capture_output=True, text=True, timeout=300, env=CLI_ENV)


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


# ---- a trained voice (a LoRA adapter, tests/lora_support.py) ------------------------------------------------
def test_a_trained_voice_is_listed_and_speaks_at_every_door(doors, tmp_path):
    """"ada" (its card's name: "Ada Lovelace") gives one take at /synthesize (by either name), MCP, /v1, the CLI
    and the worker, its own (not the smart voice's); it is listed once at /v1/audio/voices and in the page's
    picker; it speaks a dialogue's turns too."""
    import gradio as gr

    from studio.voices import PRESET
    from ui.voice_panel import build_other_voices, pick_voice

    take, _ = synthesize_door(doors, DOORS_VOICE)
    assert not _same(take, doors.explicit_take("smart")), "the trained voice spoke as the smart voice"
    for door, name in ((synthesize_door, "Ada Lovelace"), (openai_door, DOORS_VOICE), (mcp_door, DOORS_VOICE)):
        assert _same(door(doors, name)[0], take), f"{door.__name__} {name}"
    (item,) = doors.worker.run({"id": "t", "input": {"text": TEXT, "voice": DOORS_VOICE, **SHORT}})
    assert _same(_wav(base64.b64decode(item["audio_base64"])), take), "the worker"
    assert DOORS_VOICE in doors.worker.health()["voices"]
    out = tmp_path / "ada.wav"
    run = _cli(TEXT, "--voice", DOORS_VOICE, "--max-new-tokens", "12", "--seed", "5", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert _same(_wav(out), take), "the CLI"
    listed = httpx.get(f"{doors.url}/v1/audio/voices", headers=API_HEADERS, timeout=30).json()["data"]
    trained = [v for v in listed if v["type"] == "trained"]
    assert [(v["id"], v["name"]) for v in trained] == [(DOORS_VOICE, "Ada Lovelace")]
    with gr.Blocks():
        _, _, picker, _, _ = build_other_voices(doors.studio)
    assert ("Ada Lovelace (trained)", DOORS_VOICE) in picker.choices
    assert pick_voice(doors.studio.resolver, PRESET, preset=DOORS_VOICE).adapter == DOORS_VOICE
    spoken, smart = dialogue_door(doors, DOORS_VOICE)[0], doors.explicit_take("smart", dialogue=True)
    assert len(spoken) == len(smart) and not _same(spoken, smart), "the trained voice did not speak the dialogue"
