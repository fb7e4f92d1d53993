"""Shared fixtures. Every test runs offline on CPU against the tiny random-weight checkpoint."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"

# Before anything imports huggingface_hub: never reach the network, keep caches inside the repo.
os.environ.setdefault("HVS_CACHE", str(OUTPUT / "cache"))
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


# The quick loop is `pytest -m "not slow"`: every test but those that start a studio, a worker, a browser or the
# CLI in a process of its own (a minute of start-up is shared by a module's tests). CI runs everything.
SLOW_MODULES = {
    "test_access_doors", "test_cli", "test_cli_train", "test_dialogue_doors", "test_drain", "test_openai_api", "test_openai_backend", "test_remote_backend",
    "test_security_browser", "test_serverless_api", "test_serverless_s3", "test_stream_and_mcp", "test_trust_browser",
    "test_trust_doors", "test_ui_api", "test_ui_browser", "test_ui_layout_browser", "test_ui_dialogue", "test_worker_drain", "test_train_browser",
}


# Fixtures that start a process of their own (a studio, a local RunPod worker): a test using one, even through
# another fixture, is slow wherever it lives.
SLOW_FIXTURES = {"doors_studio", "worker_url"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.module.__name__.rpartition(".")[2] in SLOW_MODULES or item.get_closest_marker("browser") \
                or SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def engine():
    from inference import Engine

    return Engine("tiny-random").load()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """About 3 s of real speech made with espeak-ng (22.05 kHz mono 16-bit)."""
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-s", "150", "-w", str(path),
         "Hello, this is my voice. I am reading a short sentence for the cloning test."],
        check=True,
    )
    return path


@pytest.fixture
def output_dir(request) -> Path:
    """A per-test folder under test-output/ for artefacts a person may want to look at."""
    path = OUTPUT / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


# The studio the doors tests share (OpenAI API, OpenAI backend, /synthesize_stream, MCP, voices), its clients
# for the voice tests, then the serverless worker fixtures (local RunPod API server, voices folder, reference
# file server).
from tests.doors_support import doors_studio  # noqa: E402, F401
from tests.voice_support import doors  # noqa: E402, F401
from tests.worker_support import file_server, voices_dir, worker_url  # noqa: E402, F401
