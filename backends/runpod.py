"""The remote backend: the engine interface, answered by a RunPod serverless endpoint running serverless/.

`build_engine(backend="runpod:<endpoint-id>")` sends each take to `https://api.runpod.ai/v2/<id>/runsync`
(another `base_url`: HVS_RUNPOD_BASE_URL), with `api_key` (RUNPOD_API_KEY, passed in by the roots). A full URL works too,
e.g. `runpod:http://127.0.0.1:8000` for a worker started locally with `--rp_serve_api`.
So a CPU-only Space can front a GPU fleet. Needs no torch until `stream` is called.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from inference.contract.errors import Cancelled, ModelLoadError, StudioError
from inference.contract.recipe import load_recipe
from inference.contract.request import SynthesisRequest
from inference.contract.result import SynthesisResult, Timings
from wire.runpod_job import HealthJob
from wire.runpod_output import ChunkOutput, ErrorOutput, HealthOutput, PromptOutput, ResultOutput

from .runpod_input import job_input
from .shared import RemotePrompt

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.runpod.ai/v2"
DEFAULT_TIMEOUT_S = 600.0
MAX_AUDIO_DOWNLOAD = 100 * 2**20
_ENDPOINT_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_RUNNING = ("IN_QUEUE", "IN_PROGRESS")


class RemoteEngine:
    """Same interface as `Engine` (load, warm_up, status, synthesize, stream, is_noise, model_id)."""

    def __init__(self, endpoint: str, api_key: str | None = None, timeout_s: float | None = None,
                 poll_s: float = 1.0, base_url: str | None = None) -> None:
        endpoint = endpoint.strip()
        if endpoint.startswith(("http://", "https://")):
            self.url = endpoint.rstrip("/")
            self.label = urlsplit(self.url).netloc
        elif _ENDPOINT_ID.match(endpoint):
            base = base_url or DEFAULT_BASE_URL
            self.url = f"{base.rstrip('/')}/{endpoint}"
            self.label = endpoint
        else:
            raise ModelLoadError(f"Bad RunPod endpoint {endpoint!r}: use runpod:<endpoint-id> or runpod:<url>.")
        self._api_key = api_key or ""
        self.timeout_s = timeout_s or DEFAULT_TIMEOUT_S
        self.poll_s = poll_s
        self.model_id = f"runpod:{self.label}"
        self.device = "remote"
        self.dtype = "remote"
        self.warmed = False
        self.remote_status: dict = {}
        self._loaded = False
        self._pending = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"RemoteEngine({self.url!r})"

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def is_noise(self) -> bool:
        return bool(self.remote_status.get("noise"))

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> RemoteEngine:
        """Nothing to load here; checks that a key is set for RunPod's hosted API."""
        if not self._api_key and urlsplit(self.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ModelLoadError(f"RUNPOD_API_KEY is not set: the RunPod endpoint {self.label} needs an API key.")
        self._loaded = True
        return self

    def warm_up(self) -> None:
        """A health job: wakes a worker (cold start) and learns which model it serves."""
        self.load()
        health = HealthOutput.read(self._call(HealthJob(health=True).model_dump()))
        self.remote_status = health.engine
        if health.status != "ok":
            raise ModelLoadError(f"The RunPod worker at {self.label} cannot serve: {health.load_error}")
        self.dtype = self.remote_status.get("dtype", "remote")
        self.warmed = True

    def status(self) -> dict:
        return {
            "model": self.remote_status.get("model", self.model_id),
            "device": f"runpod:{self.label}" + (f" ({self.remote_status['device']})"
                                               if "device" in self.remote_status else ""),
            "dtype": self.dtype,
            "loaded": self.loaded,
            "warmed": self.warmed,
            "busy": self._pending > 0,
            "pending": self._pending,
            "noise": self.is_noise,
            "backend": "runpod",
        }

    # ---- generation --------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> SynthesisResult:
        """With `cancel`, the job is sent with /run and polled, so that setting it cancels the RunPod job."""
        self.load()
        with self._lock:
            self._pending += 1
        try:
            output = self._call(job_input(request), cancel)
        finally:
            with self._lock:
                self._pending -= 1
        return self._to_result(ResultOutput.read(output))

    def render_prompt(self, request: SynthesisRequest) -> RemotePrompt:
        """Asks the worker to render the prompt (a short job that generates nothing)."""
        self.load()
        prompt = PromptOutput.read(self._call({**job_input(request), "prompt_only": True}))
        return RemotePrompt(prompt.prompt, prompt.warnings, prompt.audio_frames)

    def stream(self, request: SynthesisRequest, cancel: threading.Event | None = None, **_: Any) -> Iterator:
        """Audio chunks as the worker yields them (RunPod's /run + /stream); the last chunk carries the
        whole result and no new audio. Stopping the iteration early, or setting `cancel`, cancels the job."""
        import numpy as np

        from inference.audio.codec import decode_audio
        from inference.contract.result import StreamChunk

        self.load()
        with self._lock:
            self._pending += 1
        job_id, finished, pieces = None, False, []
        try:
            reply = self._request("POST", "run", {"input": {**job_input(request), "stream": True}})
            job_id = reply.get("id")
            if not job_id:
                raise StudioError(f"The RunPod endpoint {self.label} did not accept the job.")
            deadline = time.monotonic() + self.timeout_s
            while not finished:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("The take was cancelled.")
                part = self._request("GET", f"stream/{job_id}")
                items = [p.get("output") for p in part.get("stream") or [] if isinstance(p, dict)]
                for item in items:
                    if not isinstance(item, dict):
                        continue
                    _raise_for_error(item)
                    if item.get("type") == "chunk":
                        chunk = ChunkOutput.read(item)
                        pieces.append(decode_audio(base64.b64decode(chunk.audio_base64), chunk.sample_rate))
                        yield StreamChunk(pieces[-1], chunk.sample_rate, part=chunk.part, parts=chunk.parts)
                    elif item.get("type") == "result":
                        final = ResultOutput.read(item)
                        joined = np.concatenate(pieces) if pieces else None
                        result = self._to_result(final, joined if final.audio_in_chunks else None)
                        finished = True
                        yield StreamChunk(np.zeros(0, np.float32), result.sample_rate, result=result)
                        return
                status = part.get("status")
                if status not in _RUNNING and status != "COMPLETED":
                    raise StudioError(f"The RunPod job ended {str(status).lower()}: {_error_text(part.get('error'))}")
                if status == "COMPLETED" and not items:
                    raise StudioError(f"The RunPod endpoint {self.label} returned no result.")
                if time.monotonic() > deadline:
                    raise StudioError(f"The RunPod job did not finish within {self.timeout_s:.0f} s.")
                if not items:
                    time.sleep(self.poll_s)
        finally:
            with self._lock:
                self._pending -= 1
            if job_id and not finished:
                with contextlib.suppress(StudioError):  # best effort: the job may be gone already
                    self._request("POST", f"cancel/{job_id}")

    # ---- HTTP --------------------------------------------------------------------------------
    def _call(self, payload: dict, cancel: threading.Event | None = None) -> dict:
        """Run a job to completion and return its final output dict (the last item of a streamed list).
        With `cancel` the job starts with /run (which answers at once with its id) and is cancelled on
        RunPod when the event is set; /runsync would hold the request until the take is done."""
        deadline = time.monotonic() + self.timeout_s
        reply = self._request("POST", "runsync" if cancel is None else "run", {"input": payload})
        job_id = reply.get("id")
        while reply.get("status") in _RUNNING:
            if cancel is not None and cancel.wait(self.poll_s):
                with contextlib.suppress(StudioError):  # best effort: the job may be gone already
                    self._request("POST", f"cancel/{job_id}")
                raise Cancelled("The take was cancelled.")
            if time.monotonic() > deadline:
                raise StudioError(f"The RunPod job did not finish within {self.timeout_s:.0f} s.")
            if cancel is None:
                time.sleep(self.poll_s)
            reply = self._request("GET", f"status/{job_id}")
        status = reply.get("status")
        if status != "COMPLETED":
            raise StudioError(f"The RunPod job ended {str(status).lower()}: {_error_text(reply.get('error'))}")
        output = reply.get("output")
        items = output if isinstance(output, list) else [output]
        for item in items:
            if isinstance(item, dict):
                _raise_for_error(item)
        final = items[-1] if items else None
        if not isinstance(final, dict):
            raise StudioError(f"The RunPod endpoint {self.label} returned no result (is it running serverless/?).")
        return final

    def _request(self, method: str, route: str, body: dict | None = None) -> dict:
        import requests

        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        url = f"{self.url}/{route}"
        try:
            response = requests.request(method, url, json=body, headers=headers, timeout=(10, 150))
            if response.status_code == 405 and method == "GET":  # the SDK's local test API takes POST only
                response = requests.request("POST", url, headers=headers, timeout=(10, 150))
        except requests.Timeout:
            raise StudioError(f"The RunPod endpoint {self.label} did not answer in time.") from None
        except requests.RequestException as err:
            raise StudioError(f"Could not reach the RunPod endpoint {self.label} ({type(err).__name__}).") from None
        if response.status_code in (401, 403):
            raise ModelLoadError(f"RunPod refused the request (HTTP {response.status_code}): check RUNPOD_API_KEY.")
        if response.status_code == 404:
            raise ModelLoadError(f"RunPod has no endpoint {self.label} (HTTP 404).")
        if response.status_code >= 400:
            raise StudioError(f"The RunPod endpoint {self.label} answered HTTP {response.status_code}.")
        try:
            return response.json()
        except ValueError:
            raise StudioError(f"The RunPod endpoint {self.label} answered with something that is not JSON.") from None

    def _to_result(self, output: ResultOutput, streamed=None) -> SynthesisResult:
        """The worker's final output as a SynthesisResult; `streamed` is the joined chunks, used when the
        worker left the audio out of a long streamed take's final item."""
        from inference.audio.codec import decode_audio

        sample_rate = output.sample_rate
        if output.audio_url:
            waveform = decode_audio(_download(output.audio_url), sample_rate)
        elif output.audio_base64:
            waveform = decode_audio(base64.b64decode(output.audio_base64), sample_rate)
        elif streamed is not None:
            waveform = streamed
        else:
            raise StudioError("The RunPod worker returned no audio.")
        t = output.timings
        timings = Timings(t.load_s, t.reference_s, t.generate_s, t.decode_s, audio_s=len(waveform) / sample_rate)
        return SynthesisResult(sample_rate, waveform, output.seed, timings, output.warnings,
                               f"{output.model} (runpod:{self.label})", segments=output.segments,
                               chunks=max(len(output.segments), 1),
                               recipe=load_recipe(output.recipe, renderable=False) if output.recipe else None)


def _download(url: str) -> bytes:
    import requests

    try:
        with requests.get(url, stream=True, timeout=(10, 60)) as response:
            response.raise_for_status()
            body = bytearray()
            for piece in response.iter_content(256 * 1024):
                body += piece
                if len(body) > MAX_AUDIO_DOWNLOAD:
                    raise StudioError("The take returned by the RunPod worker is too large to download.")
            return bytes(body)
    except requests.RequestException as err:
        raise StudioError(f"Could not download the take from the worker's S3 bucket ({type(err).__name__}).") from None


def _raise_for_error(item: dict) -> None:
    if item.get("error"):
        ErrorOutput.read(item).raise_error()


def _error_text(error: Any) -> str:
    return str(error)[:500] if error else "no reason given"
