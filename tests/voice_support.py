"""What the voice tests share (tests/test_voice_doors.py, tests/test_openai_voices.py): the kinds of voice,
each given explicitly, and the doors' clients on the shared studio (tests/doors_support.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from inference.contract.request import SynthesisRequest
from studio.scene import ScenePresets
from studio.voice_library import VoiceLibrary
from studio.voices import VoiceResolver
from tests.doors_support import API_HEADERS, API_KEY
from tests.lora_support import doors_trained
from tests.studio_server import ROOT

PRESETS = ScenePresets.load()
LIBRARY = VoiceLibrary()
RESOLVER = VoiceResolver(LIBRARY, PRESETS, trained=doors_trained())  # the shipped voices and a trained one, as
# every door below has them
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


def _scene(words: str | None) -> str | None:
    return f"The speaker's voice: {words}." if words else None


def _wav(data) -> np.ndarray:
    return sf.read(data if not isinstance(data, bytes) else io.BytesIO(data))[0]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """The same take, sample for sample (every door hands over the same 16-bit samples). The tiny model's
    takes are quiet: two voices' takes differ by a few 16-bit steps only, so nothing less than equal will do."""
    return len(a) == len(b) and len(a) > 0 and bool(np.array_equal(a, b))


@dataclass
class Doors:
    """The shared studio's clients (gradio_client, openai), and an in-process worker and page studio."""

    url: str
    gradio: Any
    openai: Any
    engine: Any
    worker: Any
    studio: Any
    takes: dict = field(default_factory=dict)

    def explicit_take(self, kind: str, dialogue: bool = False) -> np.ndarray:
        """The take with the kind's voice given explicitly (at /synthesize, or /dialogue)."""
        from gradio_client import handle_file

        if (kind, dialogue) not in self.takes:
            clip, transcript, words = EXPLICIT[kind]
            if dialogue:
                voice = {"clip": 0, "reference_text": transcript} if clip else words or ""
                path = self.gradio.predict(script=SCRIPT, speakers=json.dumps({"Alice": voice}), api_name="/dialogue",
                                           clips=[handle_file(str(clip))] if clip else [], **SHORT)[0]
                self.takes[kind, dialogue] = _wav(path)
            else:
                self.takes[kind, dialogue] = self.take_with(clip, transcript, words)
        return self.takes[kind, dialogue]

    def take_with(self, clip, transcript: str | None, words: str | None) -> np.ndarray:
        """The take at /synthesize with a clip uploaded (and its transcript), or words in the scene."""
        from gradio_client import handle_file

        fields = {"reference_audio": handle_file(str(clip)), "reference_text": transcript} if clip else {}
        return _wav(self.gradio.predict(text=TEXT, scene=_scene(words), api_name="/synthesize", **fields, **SHORT))

    def explicit_prompt(self, kind: str) -> tuple[str, int]:
        return self.prompt_with(*EXPLICIT[kind])

    def prompt_with(self, clip, transcript: str | None, words: str | None) -> tuple[str, int]:
        prompt = self.engine.render_prompt(SynthesisRequest.parse(text=TEXT, reference_audio=clip,
                                                                  reference_text=transcript, scene=_scene(words)))
        return prompt.rendered.strip(), prompt.audio_frames


@pytest.fixture(scope="session")
def doors(doors_studio, engine) -> Doors:
    import openai
    from gradio_client import Client

    from inference.model.adapters import Adapters
    from serverless.handler import Worker
    from studio.service import Studio

    url, _ = doors_studio
    engine.adapters = Adapters(doors_trained())  # the in-process worker serves the studio's trained voice too
    return Doors(url, Client(url, headers=API_HEADERS, verbose=False),
                 openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0, timeout=120), engine,
                 Worker(engine, voices=RESOLVER), Studio(engine, resolver=RESOLVER))


def _fields(voice) -> tuple:
    return voice.reference_audio, voice.reference_text, voice.description
