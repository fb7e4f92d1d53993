"""A RunPod job's input -> a SynthesisRequest plus the worker's own options.

The worker peels off only its own fields (how the reference arrives, output format, S3 prefix,
streaming); everything else is validated by `SynthesisRequest.parse`, like every other front door.
A dialogue is `script` (instead of `text`) with `speakers`: a name -> that speaker's voice, given the
ways a single reference is (reference_audio_base64 / reference_audio_url / voice, reference_text) or
as words (`description`). A `voice` goes through the studio's one voice rule (studio/voices.py): smart,
a preset, a described voice, one of OpenAI's names, or words; a description lands in the scene.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from inference.contract.errors import InvalidRequest
from inference.contract.request import SamplingOptions, SynthesisRequest
from studio.scene import compose_scene
from studio.voices import Voice, VoiceResolver, VoiceSpec

OUTPUT_FORMATS = {"wav": "audio/wav", "mp3": "audio/mpeg"}
REFERENCE_FIELDS = ("reference_audio_base64", "reference_audio_url", "voice")
WORKER_FIELDS = (*REFERENCE_FIELDS, "output", "s3_prefix", "stream", "prompt_only", "check", "script", "speakers")
REQUEST_FIELDS = ("text", "reference_text", "scene", "seed", "candidates", "pause_s", "voice_layout",
                  *SamplingOptions.model_fields)
SPEAKER_FIELDS = frozenset((*REFERENCE_FIELDS, "reference_text", "description"))
ALLOWED_FIELDS = frozenset(WORKER_FIELDS + REQUEST_FIELDS)

MAX_REFERENCE_BYTES = int(os.environ.get("HVS_MAX_REFERENCE_BYTES", 20 * 2**20))
URL_CONNECT_TIMEOUT_S = 5.0
URL_READ_TIMEOUT_S = 15.0
URL_TOTAL_TIMEOUT_S = float(os.environ.get("HVS_URL_TIMEOUT_S", 30.0))  # a slow drip still ends here
URL_MAX_REDIRECTS = 3
_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]{1,200}$")
_DATA_URL = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class JobOptions:
    """What the worker does with the take; the engine never sees these."""

    output: str = "wav"
    s3_prefix: str = ""
    stream: bool = False
    prompt_only: bool = False  # return the rendered model prompt, generate nothing
    check: bool = False  # score the take (words, voice); always on with candidates > 1

    @property
    def content_type(self) -> str:
        return OUTPUT_FORMATS[self.output]


@dataclass
class ParsedJob:
    request: SynthesisRequest
    options: JobOptions


def is_health_job(job_input: Any) -> bool:
    return isinstance(job_input, dict) and "health" in job_input


def check_health_job(job_input: dict) -> None:
    if job_input.get("health") is not True or len(job_input) != 1:
        raise InvalidRequest('A health job is exactly {"health": true}, with no other fields.')


def is_detect_job(job_input: Any) -> bool:
    return isinstance(job_input, dict) and "detect" in job_input


def detect_job_audio(job_input: dict) -> bytes:
    """`{"detect": <base64, a data: URL, or an http(s) URL of an audio file>}` -> the file's bytes."""
    if len(job_input) != 1:
        raise InvalidRequest('A detect job is exactly {"detect": "<base64 or URL of an audio file>"}, '
                             f"with no other fields (got {', '.join(sorted(job_input))}).")
    value = job_input["detect"]
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"detect must be the audio as base64 or an http(s) URL (got {_kind(value)}).")
    value = value.strip()
    if urlsplit(value).scheme.lower() in ("http", "https"):
        try:
            return fetch_reference(value)
        except InvalidRequest as err:
            raise InvalidRequest(str(err).replace("reference_audio_url", "detect URL")) from None
    return decode_base64_audio(value, name="detect")


def parse_job(job_input: Any, voices: VoiceResolver | None = None) -> ParsedJob:
    """Validate a job input, cheapest checks first. Raises InvalidRequest with a message naming the bad field(s)."""
    if not isinstance(job_input, dict):
        raise InvalidRequest(f"The job input must be a JSON object with at least a 'text' field (got {_kind(job_input)}).")
    unknown = sorted(set(job_input) - ALLOWED_FIELDS)
    if unknown:
        raise InvalidRequest(
            f"Unknown field{'s' if len(unknown) > 1 else ''} {', '.join(repr(k) for k in unknown)} in the job input "
            f"(allowed: {', '.join(sorted(ALLOWED_FIELDS))})."
        )
    options = _parse_options(job_input)
    voices = voices or VoiceResolver()
    fields = {k: job_input[k] for k in REQUEST_FIELDS if k in job_input}
    if "script" in job_input or "speakers" in job_input:
        return ParsedJob(_parse_dialogue(job_input, fields, voices), options)
    given = _reference_field(job_input, "")
    request = SynthesisRequest.parse(**fields)  # cheap checks first, before any download
    if not given:
        return ParsedJob(request, options)
    voice = _voice(given, job_input[given], request.reference_text, None, voices, "")
    fields.update(reference_audio=voice.reference_audio, reference_text=voice.reference_text,
                  scene=compose_scene(voices.presets, voice_description=voice.description, extra=request.scene))
    return ParsedJob(SynthesisRequest.parse(**fields), options)


def _reference_field(source: dict, where: str) -> str | None:
    given = [k for k in REFERENCE_FIELDS if source.get(k) is not None]
    if len(given) > 1:
        raise InvalidRequest(f"{where}Give at most one reference voice: {' and '.join(given)} were both set.")
    return given[0] if given else None


def _voice(field: str | None, value: Any, reference_text: Any, description: Any, voices: VoiceResolver,
           where: str) -> Voice:
    """One voice, however it arrives (a clip as base64 or a URL, or a `voice` name) -> the studio's one
    voice rule (studio/voices.py)."""
    clip = None
    if field is not None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{where}{field} must be a non-empty string (got {_kind(value)}).")
        try:
            if field == "reference_audio_base64":
                clip = decode_base64_audio(value)
            elif field == "reference_audio_url":
                clip = fetch_reference(value.strip())
        except InvalidRequest as err:
            raise InvalidRequest(f"{where}{err}") from None
    spec = VoiceSpec(name=value if field == "voice" else None, clip=clip, clip_text=reference_text,
                     description=description)
    try:
        return voices.resolve(spec)
    except InvalidRequest as err:
        raise InvalidRequest(f"{where}{err}") from None


def _parse_dialogue(job_input: dict, fields: dict, voices: VoiceResolver) -> SynthesisRequest:
    """`script` + `speakers` -> a dialogue request; every speaker's clip is fetched after the cheap checks."""
    if "text" in fields:
        raise InvalidRequest("Give either 'text' or 'script' (a dialogue), not both.")
    single = [k for k in (*REFERENCE_FIELDS, "reference_text") if k in job_input]
    if single:
        raise InvalidRequest(f"A dialogue takes a voice per speaker in 'speakers', not {', '.join(single)}.")
    speakers = job_input.get("speakers") or {}
    if not isinstance(speakers, dict):
        raise InvalidRequest(f"speakers must be an object of speaker name -> voice (got {_kind(speakers)}).")
    for name, spec in speakers.items():
        if not isinstance(spec, dict):
            raise InvalidRequest(f"speakers.{name} must be an object such as {{\"voice\": \"robot_en\"}} "
                                 f"(got {_kind(spec)}).")
        unknown = sorted(set(spec) - SPEAKER_FIELDS)
        if unknown:
            raise InvalidRequest(f"Unknown field {', '.join(map(repr, unknown))} in speakers.{name} "
                                 f"(allowed: {', '.join(sorted(SPEAKER_FIELDS))}).")
    fields = {**fields, "text": job_input.get("script", "")}
    words = {name: {k: spec[k] for k in ("reference_text", "description") if k in spec} for name, spec in speakers.items()}
    SynthesisRequest.parse(**fields, speakers=words)  # the script and every option, before any download
    for name, spec in speakers.items():
        given = _reference_field(spec, f"speakers.{name}: ")
        words[name] = _voice(given, spec.get(given), spec.get("reference_text"), spec.get("description"), voices,
                             f"speakers.{name}: ").fields()
    return SynthesisRequest.parse(**fields, speakers=words)


def _parse_options(job_input: dict) -> JobOptions:
    output = job_input.get("output", "wav")
    if not isinstance(output, str) or output.lower() not in OUTPUT_FORMATS:
        raise InvalidRequest(f"output must be one of {', '.join(OUTPUT_FORMATS)} (got {output!r}).")
    flags = {}
    for name in ("stream", "prompt_only", "check"):
        flags[name] = job_input.get(name, False)
        if not isinstance(flags[name], bool):
            raise InvalidRequest(f"{name} must be true or false (got {flags[name]!r}).")
    prefix = job_input.get("s3_prefix") or ""
    if not isinstance(prefix, str) or (prefix and (
        not _S3_PREFIX.match(prefix) or prefix.startswith("/") or ".." in prefix.split("/")
    )):
        raise InvalidRequest(
            "s3_prefix may only hold letters, digits and ! _ . * ' ( ) / - (at most 200, no leading '/', "
            f"no '..' folder); got {prefix!r}."
        )
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return JobOptions(output=output.lower(), s3_prefix=prefix, **flags)


def decode_base64_audio(value: str, max_bytes: int | None = None, name: str = "reference_audio_base64") -> bytes:
    """Base64 (optionally a `data:audio/...;base64,` URL) -> bytes, refusing oversized input before decoding."""
    max_bytes = max_bytes or MAX_REFERENCE_BYTES
    text = _DATA_URL.sub("", value.strip(), count=1)
    text = "".join(text.split())  # line breaks from `base64` tools
    if len(text) * 3 // 4 > max_bytes:
        kind = "reference audio" if name.startswith("reference") else "audio files"
        raise InvalidRequest(f"{name} is over the {_mb(max_bytes)} limit for {kind}.")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name} is not valid base64.") from None
    if not data:
        raise InvalidRequest(f"{name} decodes to an empty file.")
    return data


def fetch_reference(url: str, max_bytes: int | None = None) -> bytes:
    """GET an http(s) URL with a size cap and a few checked redirects. URL_TOTAL_TIMEOUT_S bounds the
    whole fetch (connect, headers, redirects, body): when it passes, the sockets are shut down, so a
    server that drips its headers one byte at a time cannot hold the job."""
    import requests

    max_bytes = max_bytes or MAX_REFERENCE_BYTES
    deadline = time.monotonic() + URL_TOTAL_TIMEOUT_S
    too_slow = f"reference_audio_url took longer than {URL_TOTAL_TIMEOUT_S:.0f} s to download."
    with requests.Session() as session, _guarded_fetch(deadline) as guard:
        for _ in range(URL_MAX_REDIRECTS + 1):
            _check_url(url)
            # Through an egress proxy (HTTP(S)_PROXY) the proxy dials the target, not this process.
            guard.check_addresses = not requests.utils.get_environ_proxies(url)
            try:
                response = session.get(url, stream=True, allow_redirects=False,
                                       timeout=(URL_CONNECT_TIMEOUT_S, URL_READ_TIMEOUT_S),
                                       headers={"User-Agent": "higgs-voice-studio-worker"})
            except requests.RequestException as err:
                if guard.expired:
                    raise InvalidRequest(too_slow) from None
                if isinstance(err, requests.Timeout):
                    raise InvalidRequest(f"reference_audio_url timed out: {_short(url)} did not answer in time.") from None
                raise InvalidRequest(f"reference_audio_url could not be fetched from {_short(url)} "
                                     f"({type(err).__name__}).") from None
            with response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code >= 400:
                    raise InvalidRequest(
                        f"reference_audio_url answered HTTP {response.status_code} ({_short(url)}).")
                body = _read_capped(response, url, max_bytes, deadline)
                if guard.expired:
                    raise InvalidRequest(too_slow)
                return body
    raise InvalidRequest(f"reference_audio_url redirected more than {URL_MAX_REDIRECTS} times.")


def _read_capped(response, url: str, max_bytes: int, deadline: float) -> bytes:
    import requests
    import urllib3

    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InvalidRequest(f"reference_audio_url is {_mb(int(declared))}; the limit is {_mb(max_bytes)}.")
    body = bytearray()
    try:
        # read1 returns what has arrived, so a slow drip still meets the total deadline between reads.
        while piece := response.raw.read1(64 * 1024, decode_content=True):
            body += piece
            if len(body) > max_bytes:
                raise InvalidRequest(f"reference_audio_url is over the {_mb(max_bytes)} limit for reference audio.")
            if time.monotonic() > deadline:
                raise InvalidRequest(f"reference_audio_url took longer than {URL_TOTAL_TIMEOUT_S:.0f} s to download.")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        if time.monotonic() > deadline:
            raise InvalidRequest(f"reference_audio_url took longer than {URL_TOTAL_TIMEOUT_S:.0f} s to download.") from None
        raise InvalidRequest(f"reference_audio_url timed out or broke off while downloading ({_short(url)}).") from None
    if not body:
        raise InvalidRequest(f"reference_audio_url returned an empty file ({_short(url)}).")
    return bytes(body)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:  # e.g. "http://[::1": an unclosed IPv6 bracket
        raise InvalidRequest("reference_audio_url is not a valid URL (check its host name and port).") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidRequest(
            f"reference_audio_url must be an http:// or https:// URL (got {parts.scheme + ':' if parts.scheme else _short(url)!r})."
        )
    if not parts.hostname:
        raise InvalidRequest("reference_audio_url has no host name.")
    for address in _resolve(parts.hostname):
        _check_address(address)


def _resolve(host: str) -> set[str]:
    try:
        return {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise InvalidRequest(f"reference_audio_url: the host {host!r} could not be resolved.") from None


# Cloud metadata services a job must never read: link-local 169.254.169.254 (AWS, GCP, Azure) is caught
# by is_link_local; these are the others (AWS's IPv6 endpoint, Alibaba Cloud).
_METADATA_ADDRESSES = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:169.254.169.254 reaches the IPv4 address
        ip = ip.ipv4_mapped
    elif ip in _NAT64:
        ip = ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip in _METADATA_ADDRESSES:
        raise InvalidRequest(f"reference_audio_url points at a link-local or special address ({ip}); not allowed.")
    # Loopback, private, carrier-grade NAT (100.64.0.0/10), reserved: anything not on the public internet,
    # unless the operator opts in. Refused before connecting, so a caller cannot map internal ports.
    if not ip.is_global and os.environ.get("HVS_URL_ALLOW_PRIVATE", "0") != "1":
        raise InvalidRequest(f"reference_audio_url points at a private address ({ip}); this worker only fetches "
                             "public URLs.")


class _Guard:
    """One fetch's sockets, shut down when the deadline passes."""

    def __init__(self) -> None:
        self.check_addresses = True
        self.expired = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv/connect in the fetching thread


_fetching = threading.local()
_guard_installed = threading.Lock()


def _guard_connections(event: str, args: tuple) -> None:
    """Audit hook: while this thread fetches a reference, every socket it connects is checked first and
    remembered for the deadline. A name can resolve to another address when connecting than when checked
    (DNS rebinding); the address actually dialled is the one that counts. Raised before connecting."""
    guard = getattr(_fetching, "guard", None)
    if event != "socket.connect" or guard is None:
        return
    sock, address = args
    with guard.lock:
        if guard.expired:
            raise TimeoutError("the reference fetch ran out of time")
        guard.sockets.append(sock)
    if guard.check_addresses and isinstance(address, tuple) and address and isinstance(address[0], str):
        _check_address(address[0])


@contextlib.contextmanager
def _guarded_fetch(deadline: float):
    if _guard_installed.acquire(blocking=False):  # once per process; audit hooks cannot be removed
        sys.addaudithook(_guard_connections)
    guard = _Guard()
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), guard.expire)
    timer.daemon = True
    _fetching.guard = guard
    timer.start()
    try:
        yield guard
    finally:
        timer.cancel()
        _fetching.guard = None


def _short(url: str, limit: int = 80) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # never user:password
    text = f"{parts.scheme}://{host}{parts.path}"  # no query string: presigned URLs carry secrets there
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} kB"


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
