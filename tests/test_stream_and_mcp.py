"""The studio's other doors: /synthesize_stream through gradio_client (chunks while generating, then the
take) and the MCP server (--mcp) through the official `mcp` client over streamable HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading

import av
import httpx
import numpy as np
import pytest
import soundfile as sf
from gradio_client import Client
from gradio_client.utils import Status

from tests.doors_support import API_HEADERS, API_KEY
from tests.processes import wait_until
from tests.studio_server import healthz


@pytest.fixture(scope="module")
def client(doors_studio):
    url, _ = doors_studio
    return Client(url, headers=API_HEADERS, verbose=False)


def test_stream_yields_chunks_then_the_whole_take(client):
    job = client.submit(api_name="/synthesize_stream", text="Stream me, please.", max_new_tokens=120, seed=4)
    arrived = list(job)  # each output as it comes
    *chunks, (take, info) = arrived
    assert len(chunks) >= 2 and all(not meta["final"] for _, meta in chunks)
    assert info["final"] and info["seed"] == 4 and info["chunks"] == len(chunks)
    joined = np.concatenate([sf.read(path)[0] for path, _ in chunks])
    whole, rate = sf.read(take)
    # The chunks add up to the take: same length, equal within one 16-bit step (streamed windows are decoded
    # separately; measured: at most 1 step apart, on 0.07% of the samples).
    assert rate == 24_000 and len(joined) == len(whole)
    assert np.abs(joined - whole).max() <= 1 / 32768
    assert info["duration_s"] == pytest.approx(len(whole) / rate, abs=1e-3)
    # the same parameters as /synthesize: the same seed gives the same take
    same = sf.read(client.predict(api_name="/synthesize", text="Stream me, please.", max_new_tokens=120, seed=4))[0]
    assert len(same) == len(whole) and np.abs(same - whole).max() <= 1 / 32768


def test_a_stream_cancelled_while_waiting_for_the_batch_stops(doors_studio):
    """The one place in the batch (--max-batch 1) is held by a long API take. A /synthesize_stream call waits
    for it and is cancelled: Gradio stops a generator only between its items, and this one had none yet,
    so it ran in full once the place freed and then held its count for a while."""
    url, _ = doors_studio
    body = {"input": "Hold the only place in the batch.", "voice": "smart", "response_format": "pcm", "seed": 1,
            "max_new_tokens": 4096}  # (this voice and seed run to the length limit: 164 s of audio, ~30 s here)
    with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as held:
        pieces = held.iter_bytes()
        next(pieces)  # generating

        def listen():  # a client that reads its audio (until the connection is closed below)
            with contextlib.suppress(httpx.HTTPError, RuntimeError):
                for _ in pieces:
                    pass

        threading.Thread(target=listen, daemon=True).start()
        job = Client(url, headers=API_HEADERS, verbose=False).submit(api_name="/synthesize_stream", text="Waiting.", max_new_tokens=200)
        assert wait_until(lambda: job.status().code == Status.PROCESSING, 30)
        assert wait_until(lambda: healthz(url)["queue_depth"] == 2, 30), str(healthz(url))  # the API take, this one
        assert job.cancel()
        assert wait_until(lambda: healthz(url)["queue_depth"] == 1, 5), healthz(url)
        assert healthz(url)["generating"] == 1  # the API take still runs: the stream left without its place
    assert wait_until(lambda: not healthz(url)["busy"] and healthz(url)["queue_depth"] == 0, 30), healthz(url)


def test_stream_errors_are_readable(client):
    with pytest.raises(Exception, match="temperature must be at most 2.0"):
        client.predict(api_name="/synthesize_stream", text="Hi.", temperature=3)


async def _mcp(url: str):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async with streamablehttp_client(f"{url}/gradio_api/mcp/", headers=API_HEADERS) as (read, write, _), \
            ClientSession(read, write) as session:
        await session.initialize()
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        name = next(n for n in tools if n.endswith("synthesize"))
        # null means the default, as at every door (the tools' schema said "None is not of type 'number'")
        result = await session.call_tool(name, {"text": "Hello from an agent.", "max_new_tokens": 40, "seed": 2,
                                                "candidates": None, "scene": None})
        return tools, name, result


def test_mcp_lists_the_tools_and_synthesizes(doors_studio):
    url, _ = doors_studio
    tools, name, result = asyncio.run(_mcp(url))
    assert set(tools) == {"synthesize", "synthesize_stream", "synthesize_checked", "dialogue", "detect",
                          "synthesize_recipe", "dialogue_recipe", "revise"}
    # the dialogue tool was named "speak" (its function) and described none of its parameters
    assert "speaker name" in tools["dialogue"].inputSchema["properties"]["speakers"]["description"]
    tool = tools[name]
    assert "24 kHz WAV" in tool.description
    properties = tool.inputSchema["properties"]
    assert "URL" in properties["reference_audio"]["description"]
    assert "25 per second" in properties["max_new_tokens"]["description"]
    assert not result.isError, result
    link = next(c.text for c in result.content if c.type == "text" and "http" in c.text)
    audio = httpx.get(link[link.index("http"):].split()[0], headers=API_HEADERS, timeout=30)
    assert audio.status_code == 200
    with av.open(io.BytesIO(audio.content)) as container:
        frames = list(container.decode(audio=0))
    assert frames[0].sample_rate == 24_000 and sum(f.samples for f in frames) == 32 * 960
