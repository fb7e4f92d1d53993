"""The studio's OpenAI-compatible speech API through the official `openai` package: every response format
decodes, streams arrive while generating, errors come in OpenAI's shape with the right status."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
import subprocess
import time

import av
import httpx
import numpy as np
import openai
import pytest

from studio.lengths import NOISE_MAX_TOKENS
from studio.openai_voices import OPENAI_NAMES
from tests.doors_support import API_KEY
from tests.studio_server import healthz

FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]
SHORT = {"max_new_tokens": 40, "seed": 3}
# A take far longer than a test waits for: ~360 words, cut into parts of ~100 words, each 4096 steps long on the
# noise model (a single 2000-step take runs in ~5 s on an idle CPU, and its 3.8 MB of PCM fits in loopback's
# socket buffers: it could end before the test looks).
LONG_TAKE = {"voice": "smart", "response_format": "pcm", "max_new_tokens": 4096}



@pytest.fixture(scope="module")
def client(doors_studio):
    url, _ = doors_studio
    return openai.OpenAI(base_url=f"{url}/v1", api_key=API_KEY, max_retries=0, timeout=120)


def _seconds(data: bytes, fmt: str) -> float:
    """Decodes the file with PyAV (FFmpeg); raw pcm is 24 kHz 16-bit mono."""
    if fmt == "pcm":
        return len(data) / 2 / 24_000
    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(audio=0))
        assert frames, fmt
        return sum(f.samples for f in frames) / frames[0].sample_rate


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_and_a_seed_gives_the_same_bytes(client, fmt):
    def create():
        return client.audio.speech.create(model="higgs", input="Hello there.", voice="smart",
                                          response_format=fmt, extra_body=SHORT)

    speech = create()
    assert create().content == speech.content  # (Ogg's serial number was random: opus bytes differed)
    assert speech.response.headers["x-seed"] == "3" and speech.response.headers["x-model"] == "higgs"
    # 40 steps minus the stream-start row and the 7 delay rows: 32 frames of 40 ms
    assert _seconds(speech.content, fmt) == pytest.approx(32 * 0.04, abs=0.1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_answer_not_streamed_has_complete_headers(client, fmt, tmp_path):
    """A FLAC came without its sample count: soundfile refused it ("array is too big") and ffprobe gave no
    duration. Without stream_format, WAV and FLAC come as complete files, the others as before."""
    import soundfile as sf

    speech = client.audio.speech.create(model="higgs", input="Whole file.", voice="smart", response_format=fmt,
                                        extra_body=SHORT)
    take_s = 32 * 0.04  # see above
    if fmt in ("wav", "flac"):
        assert int(speech.response.headers["content-length"]) == len(speech.content)
        if fmt == "wav":  # the RIFF and data sizes are the real ones, not 0xFFFFFFFF
            assert speech.content[4:8] == (len(speech.content) - 8).to_bytes(4, "little")
            assert speech.content[40:44] == (len(speech.content) - 44).to_bytes(4, "little")
    if fmt in ("mp3", "opus", "flac", "wav"):  # the formats libsndfile reads
        samples, rate = sf.read(io.BytesIO(speech.content))
        assert len(samples) / rate == pytest.approx(take_s, abs=0.1)
    path = tmp_path / f"take.{fmt}"
    path.write_bytes(speech.content)
    raw = ["-f", "s16le", "-ar", "24000", "-ac", "1"] if fmt == "pcm" else []
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                             *raw, str(path)], capture_output=True, text=True, check=True).stdout.strip()
    assert float(probed) == pytest.approx(take_s, abs=0.15), probed


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_streams(client, fmt):
    with client.audio.speech.with_streaming_response.create(
            model="higgs", input="Streaming, piece by piece.", voice="robot_en", response_format=fmt,
            stream_format="audio", extra_body={**SHORT, "max_new_tokens": 80}) as response:
        assert response.headers["content-type"].startswith("audio/")
        pieces = [piece for piece in response.iter_bytes() if piece]
    assert len(pieces) >= 2  # the take arrived in several pieces, not as one file at the end
    assert _seconds(b"".join(pieces), fmt) == pytest.approx(72 * 0.04, abs=0.15)


def test_same_seed_same_take_and_speed_changes_tempo(client):
    def pcm(**extra) -> np.ndarray:
        body = client.audio.speech.create(model="m", input="Once more.", voice="calm-narrator",
                                          response_format="pcm", extra_body=SHORT, **extra).content
        return np.frombuffer(body, "<i2")

    first, again = pcm(), pcm()
    assert np.array_equal(first, again)
    fast, slow = pcm(speed=2.0), pcm(speed=0.5)
    assert len(fast) == pytest.approx(len(first) / 2, rel=0.05)
    assert len(slow) == pytest.approx(len(first) * 2, rel=0.05)


def test_cloning_extensions(client, speech_wav):
    clip = base64.b64encode(speech_wav.read_bytes()).decode()
    speech = client.audio.speech.create(
        model="m", input="Cloned.", voice={"id": "smart"}, instructions="A quiet room.", response_format="wav",
        extra_body={"reference_audio": clip, "reference_text": "Hello, this is my voice.", "temperature": 0.5,
                    "top_p": 0.9, "top_k": 20, **SHORT})
    assert _seconds(speech.content, "wav") > 1.0


def test_a_dialogue_with_a_voice_per_speaker(client):
    """`speakers` (a preset, a description, a smart voice), `pause_s` and `voice_layout`: two turns and a pause."""
    def dialogue(**extra) -> bytes:
        return client.audio.speech.create(
            model="m", input="Alice: Hello Bob.\nBob: Hello Alice.\n", voice="smart", response_format="pcm",
            extra_body={"max_new_tokens": 20, "seed": 4, "pause_s": 0.5, **extra}).content

    voiced = dialogue(speakers={"Alice": {"voice": "robot_en"}, "Bob": {"description": "a calm, low voice"}},
                      voice_layout="separate")
    assert len(voiced) == (2 * 12 * 960 + 12_000) * 2  # two turns of 12 frames, 0.5 s between them, 16-bit
    assert dialogue(speakers={}) != voiced


def test_sse_events_in_openais_shape(doors_studio):
    url, _ = doors_studio
    body = {"model": "m", "input": "Events.", "voice": "smart", "response_format": "pcm", "stream_format": "sse",
            **SHORT}
    with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    deltas, done = events[:-1], events[-1]
    assert deltas and all(e["type"] == "speech.audio.delta" and set(e) == {"type", "audio"} for e in deltas)
    audio = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert len(audio) == 32 * 960 * 2
    assert done["type"] == "speech.audio.done" and done["usage"]["output_tokens"] == 32
    assert done["recipe"]["model"] == "tiny-random" and done["recipe"]["text"] == "Events."  # the take's recipe


def test_models_and_voices(client, doors_studio):
    url, _ = doors_studio
    assert [m.id for m in client.models.list()] == ["tiny-random"]
    (model,) = client.models.list().data
    assert {"reference_audio", "seed", "top_k", "speakers", "pause_s", "voice_layout"} <= set(model.extensions)
    voices = httpx.get(f"{url}/v1/audio/voices", headers={"Authorization": f"Bearer {API_KEY}"}).json()["data"]
    ids = [v["id"] for v in voices]
    assert ids[0] == "smart" and "robot_en" in ids and "warm-british-male" in ids
    assert all(v["object"] == "audio.voice" for v in voices)
    # OpenAI's names say what they map to: the shipped words, or the operator's table (tests/doors_support.py)
    mapped = {v["id"]: v for v in voices if "maps_to" in v}
    assert set(mapped) == set(OPENAI_NAMES)
    assert mapped["onyx"]["maps_to"] == mapped["onyx"]["prompt"] and "deep" in mapped["onyx"]["prompt"]
    assert mapped["echo"]["maps_to"] == "robot_en" and mapped["echo"]["type"] == "audio_sample"
    assert mapped["ballad"]["maps_to"] == "clip my_voice.wav"  # the file's name, never the server's folder


def _error(doors_studio, body, key: str | None = API_KEY, **kwargs) -> tuple[int, dict]:
    url, _ = doors_studio
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.post(f"{url}/v1/audio/speech", headers=headers, timeout=60, json=body, **kwargs)
    return response.status_code, response.json()


@pytest.mark.parametrize(("body", "words"), [
    ({"input": "Hi.", "voice": {"id": "robot_en", "name": "x"}}, "voice must be a voice name or {\"id\""),
    ({"input": "Hi.", "voice": "nobody"}, "Unknown voice 'nobody'. Give a voice name (smart, robot_en"),
    ({"input": "Hi.", "colour": "blue"}, "unknown field 'colour'"),
    ({"input": "Hi.", "response_format": "ogg"}, "response_format"),
    ({"input": "Hi.", "speed": 5}, "speed must be at most 4.0"),
    ({"input": "Hi.", "temperature": 9}, "temperature must be at most 2.0"),
    ({"input": "Hi.", "seed": True}, "seed must be a number, not true"),
    ({"input": "Hi.", "speed": True}, "speed must be a number, not true"),
    ({"input": ""}, "no text to speak"),
    ({"input": "x" * 2001}, "limit is 2000"),
    ({"voice": "smart"}, "input is required"),
    ({"input": "Hi.", "reference_audio": "not base64!"}, "base64"),
    ({"input": "Hi.", "reference_audio": base64.b64encode(b"not audio at all").decode()},
     "not a supported audio format"),
    ({"input": "A: Hi.\nB: Yo.", "speakers": {"A": {"colour": "blue"}}}, "Unknown field 'colour' in speakers.A"),
    ({"input": "A: Hi.\nB: Yo.", "speakers": {"A": {"voice": "zorblax"}}}, "speakers.A: Unknown voice 'zorblax'"),
    ({"input": "A: Hi.\nB: Yo.", "speakers": {"A": {"reference_audio": "!!"}}}, "speakers.A: reference_audio must"),
    ({"input": "A: Hi.\nB: Yo.", "voice": "robot_en", "speakers": {}}, "a dialogue gives a voice per speaker"),
    ({"input": "A: Hi.\nB: Yo.", "reference_text": "x", "speakers": {}}, "not reference_audio/reference_text"),
    ({"input": "A: Hi.\nB: Yo.", "speakers": {}, "voice_layout": "mixed"}, "voice_layout"),
    ({"input": "A: Hi.\nB: Yo.", "speakers": {}, "pause_s": 9}, "pause_s must be at most 5"),
])
def test_bad_requests_are_400_in_openais_shape(doors_studio, body, words):
    status, reply = _error(doors_studio, {"max_new_tokens": 20, **body})
    assert status == 400, reply
    assert set(reply["error"]) == {"message", "type", "param", "code"}
    assert reply["error"]["type"] == "invalid_request_error" and words in reply["error"]["message"]


def test_the_openai_client_sees_the_errors(client):
    with pytest.raises(openai.BadRequestError, match="Unknown voice 'nobody'"):
        client.audio.speech.create(model="m", input="Hi.", voice="nobody")
    bad = openai.OpenAI(base_url=client.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.audio.speech.create(model="m", input="Hi.", voice="smart")


def test_key_is_required_and_never_logged(doors_studio):
    for key in (None, "wrong-key"):
        status, reply = _error(doors_studio, {"input": "Hi."}, key=key)
        assert status == 401 and reply["error"]["code"] == "invalid_api_key"
    url, log = doors_studio
    assert httpx.get(f"{url}/v1/models").status_code == 401
    assert API_KEY not in log.read_text()


def test_too_large_body_is_413(doors_studio):
    status, reply = _error(doors_studio, None, content=b"{" + b" " * (21 * 2**20) + b"}",
                           )
    assert status == 413 and reply["error"]["code"] == "request_too_large"


def test_json_nested_too_deep_is_a_400_not_a_crash(doors_studio):
    """100,000 nested arrays made json.loads raise RecursionError: a bare 500 and a traceback."""
    body = b'{"input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, reply = _error(doors_studio, None, content=body)
    assert status == 400 and "nested too deeply" in reply["error"]["message"]


def test_a_wrong_method_is_a_405_in_openais_shape(doors_studio):
    url, _ = doors_studio
    response = httpx.get(f"{url}/v1/audio/speech", timeout=30)
    assert response.status_code == 405 and "send the request with POST" in response.json()["error"]["message"]


def test_a_number_too_long_for_python_is_named_not_called_bad_json(doors_studio):
    """A 5000-digit seed is valid JSON; Python refuses to read it (over 4300 digits), which was reported as
    'not valid JSON'."""
    status, reply = _error(doors_studio, None, content=b'{"input": "Hi.", "seed": ' + b"7" * 5000 + b"}")
    assert status == 400 and "more than 100 digits" in reply["error"]["message"]


def test_a_caller_that_leaves_mid_body_leaves_no_traceback(doors_studio):
    """Headers and part of the body, then the socket closes: starlette's ClientDisconnect was an
    uncaught 'Exception in ASGI application' with 60 lines of traceback in the log, each time."""
    url, log = doors_studio
    before = log.read_text().count("Exception in ASGI application")
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30) as sock:
        sock.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: studio\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + API_KEY.encode() + b"\r\nContent-Length: 500\r\n\r\n{\"input\": ")
        time.sleep(0.5)
    assert healthz(url)["status"] == "ok"
    time.sleep(0.5)
    assert log.read_text().count("Exception in ASGI application") == before


def test_a_client_that_goes_away_stops_the_take(doors_studio):
    """A take of several 4096-step parts (many minutes of audio, a minute or more on CPU) is dropped after its first
    piece: the server stops generating at once instead of finishing it."""
    url, _ = doors_studio
    body = {**LONG_TAKE, "input": " ".join(["A very long take that nobody will hear."] * 40)}
    with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {API_KEY}"}) as response:
        assert response.status_code == 200
        next(response.iter_bytes())
        assert healthz(url)["busy"]
    started = time.monotonic()
    while healthz(url)["busy"] or healthz(url)["queue_depth"]:
        assert time.monotonic() - started < 20, "the take kept running after the client left"
        time.sleep(0.2)


def test_a_full_queue_is_429_and_callers_that_leave_the_queue_free_it(doors_studio, client):
    """Queue of two and one running: with three long takes in flight, a fourth request is refused with 429.
    The two waiting callers then leave: they must be out of the queue at once, while the first take still
    generates (before, they stayed queued until it ended, and each then ran until its first audio). Then the
    first caller leaves too and the server serves again."""
    url, _ = doors_studio
    body = {**LONG_TAKE, "input": " ".join(["Keep the server busy for a while."] * 40)}
    headers = {"Authorization": f"Bearer {API_KEY}"}

    async def crowd() -> tuple[int, dict, list[dict]]:
        async with httpx.AsyncClient(timeout=120, headers=headers) as http:
            calls = [asyncio.create_task(http.send(http.build_request("POST", f"{url}/v1/audio/speech", json=body),
                                                   stream=True)) for _ in range(3)]
            for _ in range(100):  # one take streams (its headers came back), two wait
                await asyncio.sleep(0.1)
                if sum(call.done() for call in calls) == 1:
                    break
            seen = [await asyncio.to_thread(healthz, url)]
            refused = await http.post(f"{url}/v1/audio/speech", json={"input": "One too many.", "max_new_tokens": 20})
            running = next(call for call in calls if call.done())
            for call in calls:
                if call is not running:
                    call.cancel()
            await asyncio.gather(*calls, return_exceptions=True)
            for _ in range(50):
                seen.append(await asyncio.to_thread(healthz, url))
                if seen[-1]["queue_depth"] == 1:
                    break
                await asyncio.sleep(0.1)
            await running.result().aclose()
            return refused.status_code, refused.json(), seen

    status, reply, seen = asyncio.run(crowd())
    assert status == 429 and reply["error"]["code"] == "queue_full", reply
    assert seen[0]["queue_depth"] == 3 and seen[0]["generating"] == 1, seen[0]
    assert seen[-1]["queue_depth"] == 1 and seen[-1]["generating"] == 1, seen
    started = time.monotonic()
    while healthz(url)["busy"] or healthz(url)["queue_depth"]:
        assert time.monotonic() - started < 30
        time.sleep(0.2)
    speech = client.audio.speech.create(model="m", input="Back to normal.", voice="smart", response_format="wav",
                                        extra_body=SHORT)
    assert _seconds(speech.content, "wav") > 1.0


def test_a_take_without_a_length_is_4_s_on_the_noise_model(client):
    """tiny-random never ends a take: without max_new_tokens this door made 2048 steps (82 s of noise) while the
    page started at 100. The studio's one rule (studio/lengths.py) gives every door the page's short default."""
    speech = client.audio.speech.create(model="higgs", input="Hi.", voice="smart", response_format="wav",
                                        extra_body={"seed": 3})
    assert _seconds(speech.content, "wav") == pytest.approx((NOISE_MAX_TOKENS - 8) * 0.04, abs=0.05)  # 3.7 s
