"""The OpenAI-compatible backend: each take goes to `POST <base-url>/v1/audio/speech`.

`build_engine(backend="openai:http://host:port")`, with the key (if the server wants one) in `api_key`
(HVS_BACKEND_API_KEY, passed in by the roots). Takes come back as raw 24 kHz 16-bit PCM, streamed while the
server generates them. The body is wire/openai_speech.py's SpeechBody. Another Higgs Voice Studio takes everything (reference clip,
transcript, seed, sampling options, a dialogue's speakers, pause and layout: the "extensions" its /v1/models
lists); a plain server (e.g. the official higgs-audio vLLM server) takes text, a voice of its own and
instructions: a reference clip or a dialogue's speakers are then refused with a message saying so, and the
take notes that the server's own sampling settings were used.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from inference.contract.engine import NOISE_WARNING, TINY_MODEL_ID
from inference.contract.errors import InvalidRequest, ModelLoadError, StudioError
from inference.contract.request import SAMPLE_RATE, SpeakerVoice, SynthesisRequest
from inference.contract.result import SynthesisResult, Timings
from wire.openai_speech import SpeechBody, SpeechSpeaker

from .shared import RemotePrompt, reference_bytes

log = logging.getLogger(__name__)

API_KEY_ENV = "HVS_BACKEND_API_KEY"
VOICE_ENV = "HVS_BACKEND_VOICE"
DEFAULT_TIMEOUT_S = 600.0
MAX_REFERENCE_UPLOAD = 12 * 2**20  # stays under the studio's 20 MB body limit once in base64 (shared by a dialogue's clips)


class OpenAISpeechEngine:
    """Same interface as `Engine` (load, warm_up, status, synthesize, stream, render_prompt)."""

    def __init__(self, base_url: str, api_key: str | None = None, voice: str | None = None,
                 timeout_s: float | None = None) -> None:
        url = base_url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")) or not urlsplit(url).netloc:
            raise ModelLoadError(f"Bad OpenAI-compatible server {base_url!r}: use openai:http(s)://host[:port].")
        self.url = url.removesuffix("/v1")
        self.label = urlsplit(self.url).netloc
        self._api_key = api_key or ""
        self.voice = voice or None
        self.timeout_s = timeout_s or DEFAULT_TIMEOUT_S
        self.model_id = f"openai:{self.label}"
        self.server_model: str | None = None
        self.extensions: set[str] = set()
        self.server_voices: list[str] = []
        self.device = self.dtype = "remote"
        self.warmed = self.loaded = False
        self._pending = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAISpeechEngine({self.url!r})"

    @property
    def is_noise(self) -> bool:
        return self.server_model == TINY_MODEL_ID

    # ---- lifecycle -------------------------------------------------------------------------
    def load(self) -> OpenAISpeechEngine:
        self.loaded = True
        return self

    def warm_up(self) -> None:
        """Learns the server's model, the extensions it accepts and its voices (GET /v1/models, /v1/audio/voices)."""
        self.load()
        with self._get("/v1/models") as response:
            models = (response.json().get("data") or [{}])[0]
        self.server_model = models.get("id")
        self.extensions = set(models.get("extensions") or [])
        try:
            with self._get("/v1/audio/voices") as response:
                self.server_voices = [v["id"] for v in response.json().get("data") or [] if "id" in v]
        except (StudioError, ValueError, KeyError, TypeError):
            self.server_voices = []  # not every server lists its voices
        if self.voice is None and self.server_voices:
            self.voice = self.server_voices[0]
        self.warmed = True

    def status(self) -> dict:
        return {"model": self.server_model or self.model_id, "device": self.model_id, "dtype": self.dtype,
                "loaded": self.loaded, "warmed": self.warmed, "busy": self._pending > 0, "pending": self._pending,
                "noise": self.is_noise, "backend": "openai"}

    def render_prompt(self, request: SynthesisRequest) -> RemotePrompt:
        raise StudioError(f"The speech server at {self.label} does not show the prompt it builds.")

    # ---- generation --------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> SynthesisResult:
        for chunk in self.stream(request, cancel=cancel):
            if chunk.result is not None:
                return chunk.result
        raise StudioError(f"The speech server at {self.label} sent no audio.")

    def stream(self, request: SynthesisRequest, cancel: threading.Event | None = None, **_: Any) -> Iterator:
        """Audio chunks as the server sends them; the last one carries the whole result. Stopping the
        iteration (or setting `cancel`) closes the connection, which stops the take on the server."""
        import numpy as np

        from inference.audio.formats import pcm_to_float
        from inference.contract.result import StreamChunk

        body, warnings = self._payload(request)
        started = time.perf_counter()
        with self._lock:
            self._pending += 1
        try:
            with self._post(body) as response:
                seed = int(response.headers.get("X-Seed") or request.seed or 0)
                pieces, carry = [], b""
                for data in response.iter_content(None):
                    data, carry = _even(carry + data)
                    if data:
                        pieces.append(pcm_to_float(data))
                        yield StreamChunk(pieces[-1], SAMPLE_RATE)
                    if cancel is not None and cancel.is_set():
                        return
        finally:
            with self._lock:
                self._pending -= 1
        if not pieces:
            raise StudioError(f"The speech server at {self.label} sent no audio.")
        whole = np.concatenate(pieces)
        timings = Timings(generate_s=time.perf_counter() - started, audio_s=len(whole) / SAMPLE_RATE)
        if self.is_noise:
            warnings.append(NOISE_WARNING)
        result = SynthesisResult(SAMPLE_RATE, whole, seed, timings, warnings,
                                 f"{self.server_model or '?'} ({self.model_id})")
        yield StreamChunk(np.zeros(0, np.float32), SAMPLE_RATE, result=result)

    def _payload(self, request: SynthesisRequest) -> tuple[SpeechBody, list[str]]:
        """OpenAI's fields, plus the extensions the server listed; warnings for what it could not take."""
        if request.trained_voices:
            raise InvalidRequest(f"The trained voice {min(request.trained_voices)!r} lives beside this studio, not on the speech "
                                 f"server at {self.label}: give the server's own voice name instead.")
        if not self.warmed:  # a front door that skipped warm_up (the CLI): learn what the server takes first
            self.warm_up()
        fields: dict[str, Any] = {"model": self.server_model or "tts-1", "input": request.text,
                                  "response_format": "pcm", "stream_format": "audio"}
        if request.is_dialogue:
            fields.update(self._dialogue(request))
        if self.voice and "speakers" not in fields:  # with speakers, each has a voice of its own
            fields["voice"] = self.voice
        if request.scene:
            fields["instructions"] = request.scene
        warnings = []
        if request.reference_audio is not None:
            if "reference_audio" not in self.extensions:
                voices = ", ".join(self.server_voices) or "see the server's documentation"
                raise InvalidRequest(
                    f"The speech server at {self.label} does not take a reference clip (it lists no cloning "
                    f"extension), so cloned and preset voices cannot be used with it. Choose Smart voice: takes "
                    f"use the server's voice {self.voice or '(its default)'} (set {VOICE_ENV}; its voices: {voices}).")
            fields["reference_audio"] = _base64_clip(request.reference_audio, MAX_REFERENCE_UPLOAD)
            if request.reference_text:
                fields["reference_text"] = request.reference_text
        options = {"seed": request.seed, **request.sampling.model_dump()}
        taken = {k: v for k, v in options.items() if k in self.extensions and v is not None}
        fields.update(taken)
        if set(options) - set(taken) - {"seed"} or (request.seed is not None and "seed" not in taken):
            warnings.append(f"The speech server at {self.label} takes no seed or sampling options: its own "
                            "settings were used.")
        return SpeechBody(**fields), warnings

    def _dialogue(self, request: SynthesisRequest) -> dict[str, Any]:
        """A dialogue's speakers, pause and layout, as the extensions the server lists (another studio lists
        them all). One it does not list is refused, unless the request leaves it as the server assumes."""
        wanted = {"speakers": request.speakers, "pause_s": request.pause_s, "voice_layout": request.voice_layout}
        missing = [name for name, value in wanted.items()
                   if name not in self.extensions and value != SynthesisRequest.model_fields[name].default]
        if missing:
            raise InvalidRequest(
                f"The speech server at {self.label} cannot take this dialogue: it does not list "
                f"{' or '.join(missing)} among its extensions (GET /v1/models), so the dialogue's speakers and "
                "options would be lost. Send dialogues to a server that does, such as another Higgs Voice Studio.")
        fields = {name: value for name, value in wanted.items() if name in self.extensions and value is not None}
        if "speakers" in fields:  # the clips share the body's room
            share = MAX_REFERENCE_UPLOAD // max(1, sum(v.reference_audio is not None for v in request.speakers.values()))
            fields["speakers"] = {name: _speaker(voice, share) for name, voice in request.speakers.items()}
        return fields

    # ---- HTTP --------------------------------------------------------------------------------
    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _get(self, route: str):
        return self._send("GET", route, None)

    def _post(self, body: SpeechBody):
        return self._send("POST", "/v1/audio/speech", body.to_json())

    def _send(self, method: str, route: str, payload: dict | None):
        import requests

        try:
            response = requests.request(method, self.url + route, json=payload, headers=self._headers(),
                                        stream=True, timeout=(10, self.timeout_s))
        except requests.Timeout:
            raise StudioError(f"The speech server at {self.label} did not answer in time.") from None
        except requests.RequestException as err:
            raise StudioError(f"Could not reach the speech server at {self.label} ({type(err).__name__}).") from None
        if response.status_code < 400:
            return response
        with response:
            message = _error_message(response)
        status = response.status_code
        if status in (401, 403):
            raise ModelLoadError(f"The speech server at {self.label} refused the key (HTTP {status}): "
                                 f"check {API_KEY_ENV}.")
        if status in (400, 413, 422):
            raise InvalidRequest(message or f"The speech server at {self.label} refused the request (HTTP {status}).")
        if status == 429:
            raise StudioError(f"The speech server at {self.label} is busy: {message or 'its queue is full'}.")
        raise StudioError(f"The speech server at {self.label} answered HTTP {status}"
                          + (f": {message}" if message else "."))


def _speaker(voice: SpeakerVoice, limit: int) -> SpeechSpeaker:
    given = {"reference_audio": _base64_clip(voice.reference_audio, limit) if voice.reference_audio is not None else None,
             "reference_text": voice.reference_text, "description": voice.description}
    return SpeechSpeaker(**{name: value for name, value in given.items() if value is not None})


def _base64_clip(clip, limit: int) -> str:
    return base64.b64encode(reference_bytes(clip, limit)).decode()


def _error_message(response) -> str:
    """The message of an OpenAI-shaped error body, else the start of the body."""
    try:
        body = response.json()
        return str(body["error"]["message"] if isinstance(body.get("error"), dict) else body.get("error", ""))[:500]
    except (ValueError, AttributeError, KeyError, TypeError):
        return response.text[:200].strip()


def _even(data: bytes) -> tuple[bytes, bytes]:
    """Whole 16-bit samples, and the odd byte left for the next piece."""
    cut = len(data) - len(data) % 2
    return data[:cut], data[cut:]
