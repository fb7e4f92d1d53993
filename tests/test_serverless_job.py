"""Job input validation (serverless/job.py, wire/runpod_job.py) and reference fetching (wire/fetch.py),
in-process (no model, no worker process)."""

from __future__ import annotations

import base64
import re

import pytest

from inference.contract.errors import InvalidRequest
from serverless.job import parse_job
from studio.voice_library import VoiceLibrary
from studio.voices import VoiceResolver
from wire import fetch as fetchmod
from wire.fetch import FetchLimits, decode_base64_audio, fetch_reference


@pytest.fixture
def voices(voices_dir) -> VoiceResolver:
    return VoiceResolver(VoiceLibrary(voices_dir))


@pytest.fixture
def allow_private(monkeypatch):
    """The test file server listens on loopback, which the worker refuses unless the operator opts in."""
    monkeypatch.setattr(fetchmod, "ALLOW_PRIVATE", True)


def test_plain_job(voices):
    parsed = parse_job({"text": "Hello.", "temperature": 0.3, "seed": 7, "output": "MP3", "s3_prefix": "a/b",
                        "stream": True}, voices)
    assert parsed.request.text == "Hello." and parsed.request.seed == 7
    assert parsed.request.sampling.temperature == 0.3
    assert parsed.options.output == "mp3" and parsed.options.content_type == "audio/mpeg"
    assert parsed.options.s3_prefix == "a/b/" and parsed.options.stream is True


@pytest.mark.parametrize("job_input", [
    {"text": "Hi.", "candidates": None, "parts": None, "seed": None, "temperature": None},
    {"text": "Hi.", "voice": "tester", "candidates": None, "parts": None},
    {"script": "Alice: Hi.\nBob: Yo.", "pause_s": None, "voice_layout": None, "candidates": None},
])
def test_null_options_mean_the_default(job_input, voices):
    """As at /synthesize, /dialogue and /v1 (and as wire/runpod_job.py says): a null option is the default,
    not 'candidates has the wrong type (got None)'."""
    request = parse_job(job_input, voices).request
    assert (request.candidates, request.parts, request.pause_s, request.voice_layout) == (1, "length", 0.3, "scene")


def test_an_empty_voice_is_the_smart_voice(voices):
    # as at /synthesize, /dialogue, /v1 and the CLI (--voice ""); the worker said 'voice must be a non-empty
    # string (got a string)'
    assert parse_job({"text": "Hi.", "voice": " "}, voices).request.reference_audio is None
    speakers = parse_job({"script": "Alice: Hi.", "speakers": {"Alice": {"voice": ""}}}, voices).request.speakers
    assert speakers["Alice"].is_smart
    with pytest.raises(InvalidRequest, match=r"reference_audio_base64 must be a non-empty string \(got an empty"):
        parse_job({"text": "Hi.", "reference_audio_base64": ""}, voices)


def test_preset_voice_brings_its_transcript(voices, voices_dir):
    parsed = parse_job({"text": "Hi.", "voice": "tester"}, voices)
    assert parsed.request.reference_audio == voices_dir / "tester.wav"
    assert parsed.request.reference_text.startswith("Hello, this is my voice")


def test_base64_reference_and_data_url(speech_wav, voices):
    raw = speech_wav.read_bytes()
    encoded = base64.b64encode(raw).decode()
    assert parse_job({"text": "Hi.", "reference_audio_base64": encoded}, voices).request.reference_audio == raw
    assert decode_base64_audio("data:audio/wav;base64," + encoded) == raw
    assert decode_base64_audio("\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))) == raw


def test_url_reference_and_redirect(allow_private, file_server, speech_wav, voices):
    raw = speech_wav.read_bytes()
    assert parse_job({"text": "Hi.", "reference_audio_url": f"{file_server}/speech.wav"}, voices
                     ).request.reference_audio == raw
    assert fetch_reference(f"{file_server}/redirect") == raw


BAD_JOBS = [
    ("not a dict", "must be a JSON object"),
    ({"txt": "typo"}, "Unknown field 'txt'"),
    ({"text": "Hi.", "reference_audio": "/etc/passwd"}, "Unknown field 'reference_audio'"),
    ({"text": "Hi.", "sampling": {}}, "Unknown field 'sampling'"),
    ({}, "text is required"),
    ({"text": "   "}, "no text to speak"),
    ({"text": "x" * 5000}, "limit is 2000"),
    ({"text": "Hi.", "temperature": 9}, "temperature must be at most 2"),
    ({"text": "Hi.", "top_k": "many"}, "top_k has the wrong type"),
    ({"text": "Hi.", "seed": -1}, "seed must be at least 0"),
    ({"text": "Hi.", "output": "ogg"}, "output must be one of wav, mp3"),
    ({"text": "Hi.", "stream": "yes"}, "stream must be true or false"),
    ({"text": "Hi.", "s3_prefix": "../escape"}, "s3_prefix may only hold"),
    ({"text": "Hi.", "s3_prefix": "/abs"}, "s3_prefix may only hold"),
    ({"text": "Hi.", "voice": "nobody"}, "Unknown voice 'nobody'. Give a voice name (smart, tester, "),
    ({"text": "Hi.", "voice": "tester", "reference_text": "words"}, "cannot be combined with the preset voice"),
    ({"text": "Hi.", "voice": "tester", "reference_audio_url": "http://127.0.0.1/x"}, "at most one reference"),
    ({"text": "Hi.", "voice": 3}, "voice must be a non-empty string"),
    ({"text": "Hi.", "reference_audio_base64": "not base64 at all!"}, "not valid base64"),
    ({"text": "Hi.", "reference_audio_base64": "data:audio/wav;base64,"}, "empty file"),
    ({"text": "Hi.", "reference_audio_url": "file:///etc/passwd"}, "must be an http:// or https:// URL"),
    ({"text": "Hi.", "reference_audio_url": "ftp://127.0.0.1/a.wav"}, "must be an http:// or https:// URL"),
    ({"text": "Hi.", "reference_audio_url": "data:audio/wav;base64,AAAA"}, "must be an http:// or https:// URL"),
    ({"text": "Hi.", "reference_audio_url": "http://169.254.169.254/latest/meta-data"}, "link-local"),
    ({"text": "Hi.", "reference_audio_url": "http://[::ffff:169.254.169.254]/latest"}, "(169.254.169.254)"),
    ({"text": "Hi.", "reference_audio_url": "http://[64:ff9b::a9fe:a9fe]/latest"}, "(169.254.169.254)"),
    ({"text": "Hi.", "reference_audio_url": "http://[fd00:ec2::254]/latest"}, "special address (fd00:ec2::254)"),
    ({"text": "Hi.", "reference_audio_url": "http://100.100.100.200/latest"}, "special address (100.100.100.200)"),
    ({"text": "Hi.", "reference_audio_url": "http://[::1"}, "is not a valid URL"),  # was an 'internal' crash
    ({"text": "Hi.", "reference_audio_url": "http://host:99999/a.wav"}, "is not a valid URL"),
]


@pytest.mark.parametrize(("job_input", "message"), BAD_JOBS, ids=[m for _, m in BAD_JOBS])
def test_bad_job_inputs(job_input, message, voices):
    with pytest.raises(InvalidRequest, match=re.escape(message)):
        parse_job(job_input, voices)


@pytest.mark.parametrize(("route", "message"), [
    ("/missing.wav", "answered HTTP 404"),
    ("/to-file", "must be an http:// or https:// URL"),
    ("/loop", "redirected more than 3 times"),
    ("/big", "the limit is"),
    ("/empty", "empty file"),
])
def test_bad_reference_urls(allow_private, file_server, route, message):
    with pytest.raises(InvalidRequest, match=message):
        fetch_reference(file_server + route)


def test_url_size_cap_without_content_length(allow_private, file_server, monkeypatch):
    monkeypatch.setattr(fetchmod, "MAX_REFERENCE_BYTES", 1000)
    with pytest.raises(InvalidRequest, match="over the 1.0 kB limit"):
        fetch_reference(f"{file_server}/text")  # 2.5 kB


def test_base64_size_cap(monkeypatch):
    monkeypatch.setattr(fetchmod, "MAX_REFERENCE_BYTES", 1000)
    with pytest.raises(InvalidRequest, match="limit for reference audio"):
        parse_job({"text": "Hi.", "reference_audio_base64": base64.b64encode(b"x" * 2000).decode()})


def test_url_read_timeout(allow_private, file_server, monkeypatch):
    monkeypatch.setattr(fetchmod, "URL_READ_TIMEOUT_S", 0.5)
    with pytest.raises(InvalidRequest, match="timed out"):
        fetch_reference(f"{file_server}/stall")


def test_url_total_deadline(allow_private, file_server, monkeypatch):
    monkeypatch.setattr(fetchmod, "URL_TOTAL_TIMEOUT_S", 1.0)
    with pytest.raises(InvalidRequest, match="took longer than 1 s"):
        fetch_reference(f"{file_server}/drip")


def test_a_body_slower_than_the_deadline_is_too_slow_not_empty(allow_private, file_server, monkeypatch):
    """The deadline shuts the socket before the first body byte: that read an end of file ("returned an
    empty file")."""
    monkeypatch.setattr(fetchmod, "URL_TOTAL_TIMEOUT_S", 1.0)
    with pytest.raises(InvalidRequest, match="took longer than 1 s"):
        fetch_reference(f"{file_server}/late-body")


def test_refused_connection(allow_private):
    from tests.processes import free_port

    with pytest.raises(InvalidRequest, match="could not be fetched"):
        fetch_reference(f"http://127.0.0.1:{free_port()}/a.wav")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "100.64.0.1",
                                  "100.127.255.254", "[::1]", "[fd12::1]", "[::ffff:10.0.0.1]"])
def test_private_addresses_are_refused_by_default(host):
    with pytest.raises(InvalidRequest, match=r"private address \("):
        fetch_reference(f"http://{host}:9/speech.wav")  # refused before connecting: no port can be probed


@pytest.mark.parametrize(("host", "reached"), [
    ("192.0.0.8", "192.0.0.8"),  # IANA special-purpose; Python < 3.11.10 calls it global
    ("[2002:a9fe:a9fe::1]", "169.254.169.254"),  # 6to4
    ("[::a9fe:a9fe]", "169.254.169.254"),  # IPv4-compatible
    ("[::ffff:0:a9fe:a9fe]", "169.254.169.254"),  # IPv4-translated
    ("[64:ff9b:1::a9fe:a9fe]", "169.254.169.254"),  # local-use NAT64
    ("[2002:0a00:0001::1]", "10.0.0.1"),
    ("[64:ff9b::7f00:1]", "127.0.0.1"),
])
def test_tunnelling_forms_of_private_addresses_are_refused(host, reached):
    with pytest.raises(InvalidRequest, match=rf"address \({re.escape(reached)}\)"):
        fetch_reference(f"http://{host}:9/latest")  # refused before connecting


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "2002:5db8:d822::1", "64:ff9b::5db8:d822",
                                     "::ffff:93.184.216.34"])
def test_public_addresses_and_their_tunnelling_forms_pass_the_check(address):
    fetchmod._check_address(address, allow_private=False)


def test_private_addresses_are_fetched_after_opting_in(file_server, monkeypatch):
    with pytest.raises(InvalidRequest, match=r"private address \(127\.0\.0\.1\)"):
        fetch_reference(f"{file_server}/redirect".replace("127.0.0.1", "localhost"))
    opted_in = FetchLimits(allow_private=True)  # HVS_URL_ALLOW_PRIVATE=1, passed in by the worker
    assert fetch_reference(f"{file_server}/redirect".replace("127.0.0.1", "localhost"), opted_in).startswith(b"RIFF")
    with pytest.raises(InvalidRequest, match="link-local"):  # metadata services stay out of reach
        fetch_reference("http://169.254.169.254/latest", opted_in)


def test_the_connected_address_is_checked_too(file_server, monkeypatch):
    # DNS rebinding: the name resolves to a public address when checked, then the connection lands on
    # a private one. The address actually connected to is refused before anything is read.
    monkeypatch.setattr(fetchmod, "_resolve", lambda host: {"93.184.216.34"})
    with pytest.raises(InvalidRequest, match=r"private address \(127\.0\.0\.1\)"):
        fetch_reference(f"{file_server}/speech.wav")
    assert fetch_reference(f"{file_server}/speech.wav", FetchLimits(allow_private=True))


def test_slow_headers_meet_the_total_deadline(allow_private, file_server, monkeypatch):
    """A server that sends its status line one byte at a time never trips the read timeout; the total
    limit must still end the fetch (it held a job for 150 s before)."""
    import time

    monkeypatch.setattr(fetchmod, "URL_TOTAL_TIMEOUT_S", 1.0)
    started = time.monotonic()
    with pytest.raises(InvalidRequest, match="took longer than 1 s"):
        fetch_reference(f"{file_server}/slow-headers")
    assert time.monotonic() - started < 10  # the server would drip for 60 s


def test_passwords_in_urls_stay_out_of_errors_and_logs(allow_private, file_server, caplog):
    from serverless.handler import Worker

    url = file_server.replace("http://", "http://ann:hunter2@") + "/missing.wav"
    with pytest.raises(InvalidRequest) as refused:
        fetch_reference(url)
    assert "HTTP 404" in str(refused.value) and "hunter2" not in str(refused.value)
    for bad in (url.replace("/missing.wav", "/big"), "//ann:hunter2@example.com/a.wav",
                "http://ann:hunter2@10.0.0.1/a.wav"):
        outputs = list(Worker(None).run({"id": "j", "input": {"text": "Hi.", "reference_audio_url": bad}}))
        assert outputs[0]["error_type"] == "invalid_request" and "hunter2" not in outputs[0]["error"], outputs
    assert "hunter2" not in caplog.text


def test_fetches_through_an_egress_proxy_are_not_refused_for_the_proxys_address(file_server, monkeypatch):
    # The proxy (here the file server, on loopback) dials the target; the target's address is what counts.
    monkeypatch.setenv("HTTP_PROXY", file_server)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch_reference("http://93.184.216.34/speech.wav").startswith(b"RIFF")
    with pytest.raises(InvalidRequest, match="link-local"):
        fetch_reference("http://169.254.169.254/latest")  # checked before the proxy is asked
