"""One studio shared by the tests of its doors (OpenAI API, OpenAI backend, /synthesize_stream, MCP):
launched with --mcp, an API key and a queue of two."""

from __future__ import annotations

import pytest

from tests.studio_server import run_studio

API_KEY = "test-api-key-7f3c"


@pytest.fixture(scope="session")
def doors_studio(tmp_path_factory):
    """Yields (base URL, server log path)."""
    log = tmp_path_factory.mktemp("doors") / "server.log"
    env = {"HVS_API_KEY": API_KEY, "HVS_MCP": "1", "HVS_ASR_MODEL": "none"}
    with run_studio(log, "--queue-size", "2", "--max-batch", "1", env=env) as url:
        yield url, log
