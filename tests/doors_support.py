"""One studio shared by the tests of its doors (OpenAI API, OpenAI backend, /synthesize_stream, MCP, voices):
launched with --mcp, an API key, a queue of two, an operator's OpenAI voice table (OVERRIDE) and a trained voice
(tests/lora_support.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.lora_support import doors_trained
from tests.studio_server import ROOT, run_studio

API_KEY = "test-api-key-7f3c"
API_HEADERS = {"Authorization": f"Bearer {API_KEY}"}  # the key guards Gradio's API and MCP too
# The operator's table: echo becomes a preset voice, ballad a saved clip (a copy of robot_gb, beside the file).
OVERRIDE = {"voices": {"echo": "robot_en", "ballad": {"clip": "my_voice.wav", "transcript": "A voice of my own."}}}


def write_override(folder) -> str:
    shutil.copy(ROOT / "assets" / "voices" / "robot_gb.wav", folder / "my_voice.wav")
    (folder / "openai_voices.json").write_text(json.dumps(OVERRIDE))
    return str(folder / "openai_voices.json")


@pytest.fixture(scope="session")
def doors_studio(tmp_path_factory):
    """Yields (base URL, server log path)."""
    folder = tmp_path_factory.mktemp("doors")
    env = {"HVS_API_KEY": API_KEY, "HVS_MCP": "1", "HVS_ASR_MODEL": "none",
           "HVS_OPENAI_VOICES": write_override(folder), "HVS_TRAINED_DIR": str(doors_trained())}
    with run_studio(folder / "server.log", "--queue-size", "2", "--max-batch", "1", env=env) as url:
        yield url, folder / "server.log"
