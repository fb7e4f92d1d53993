"""Transcribing a reference clip with Whisper (transformers' ASR pipeline), loaded on first use.

The studio needs the exact words of the reference clip for a close clone; people rarely type them.
The model loads lazily (most visitors never need it) and a load failure becomes one clear sentence.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import numpy as np

from .audio import decode_audio
from .errors import InvalidAudio, ModelLoadError
from .reference import READ_S

log = logging.getLogger(__name__)

DEFAULT_ASR_MODEL = "openai/whisper-base"
ASR_SAMPLE_RATE = 16_000
RETRY_AFTER_S = 300.0  # after a failed load, don't retry on every click (each try can wait on the network)
DISABLED = ("", "none", "off")


class Transcriber:
    """`Transcriber(model_id).transcribe(path_or_bytes) -> str`. Thread-safe; loads once."""

    def __init__(self, model_id: str | None = None, device: str = "cpu") -> None:
        self.model_id = model_id if model_id is not None else os.environ.get("HVS_ASR_MODEL", DEFAULT_ASR_MODEL)
        self.device = device
        self._pipeline = None
        self._lock = threading.Lock()
        self._failure: tuple[float, str] | None = None

    @property
    def enabled(self) -> bool:
        return self.model_id.strip().lower() not in DISABLED

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None

    def load(self):
        if not self.enabled:
            raise ModelLoadError("Transcription is turned off on this server (no --asr-model); type the transcript.")
        with self._lock:
            if self._pipeline is not None:
                return self._pipeline
            if self._failure and time.monotonic() - self._failure[0] < RETRY_AFTER_S:
                raise ModelLoadError(self._failure[1])
            why_not = _unavailable(self.model_id)
            if why_not:  # decided in well under a second, instead of the hub client's ~30 s of retries
                message = _sentence(self.model_id, why_not)
                log.warning(message)
                self._failure = (time.monotonic(), message)
                raise ModelLoadError(message)
            try:
                from transformers import pipeline

                self._pipeline = pipeline("automatic-speech-recognition", model=self.model_id, device=self.device)
            except Exception as err:  # any failure (offline, wrong id, no weights) -> one sentence
                message = _describe_load_error(self.model_id, err)
                log.warning("%s (%s: %s)", message, type(err).__name__, err)
                self._failure = (time.monotonic(), message)
                raise ModelLoadError(message) from None
            self._failure = None
            return self._pipeline

    def transcribe(self, audio: Path | str | bytes, language: str | None = None) -> str:
        """The words spoken in a clip. Raises InvalidAudio (bad clip) or ModelLoadError (no ASR model)."""
        source = Path(audio) if isinstance(audio, str) else audio
        wave = decode_audio(source, ASR_SAMPLE_RATE, max_seconds=READ_S)  # as much as a reference can use
        if wave.size == 0 or float(np.max(np.abs(wave))) < 1e-3:
            raise InvalidAudio("The clip is silent: there is nothing to transcribe.")
        asr = self.load()
        kwargs = {"generate_kwargs": {"language": language}} if language else {}
        if wave.size > 30 * ASR_SAMPLE_RATE:  # Whisper reads 30 s windows; chunk longer clips
            kwargs["chunk_length_s"] = 30
        out = asr({"raw": wave, "sampling_rate": ASR_SAMPLE_RATE}, **kwargs)
        return " ".join(str(out.get("text", "")).split())


HUB_PROBE_TIMEOUT_S = 5.0
NOT_CACHED = "it is not in the local cache and the Hugging Face Hub cannot be reached"


def _unavailable(model_id: str) -> str | None:
    """Why the model surely can't be loaded, found quickly: a missing local path, or a hub model that is not
    cached while the hub is offline or does not answer one short request. None when it may load."""
    if Path(model_id).expanduser().exists():
        return None
    if model_id.startswith(("/", "./", "../", "~")):
        return "there is no model at that path"
    import huggingface_hub

    if isinstance(huggingface_hub.try_to_load_from_cache(model_id, "config.json"), str):
        return None
    if any(os.environ.get(var, "").lower() in ("1", "true", "yes") for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")):
        return "it is not in the local cache and the studio runs offline (HF_HUB_OFFLINE)"
    try:
        huggingface_hub.HfApi().model_info(model_id, timeout=HUB_PROBE_TIMEOUT_S)
    except huggingface_hub.errors.RepositoryNotFoundError:
        return "no such model was found (check the id or path)"
    except Exception:  # noqa: BLE001 - no network, DNS, proxy, timeout: all mean "can't be had now"
        return NOT_CACHED
    return None


def _sentence(model_id: str, why: str) -> str:
    return (f"The transcription model {model_id!r} could not be loaded: {why}. "
            "Type the transcript yourself, or start the studio with another --asr-model.")


def _describe_load_error(model_id: str, err: Exception) -> str:
    text = f"{type(err).__name__}: {err}".lower()
    if model_id.startswith(("/", "./", "../", "~")) and not Path(model_id).expanduser().exists():
        why = "there is no model at that path"
    elif any(word in text for word in ("offline", "connect", "network", "resolve", "timed out", "couldn't find")) or (
        os.environ.get("HF_HUB_OFFLINE") == "1"
    ):
        why = NOT_CACHED
    elif any(word in text for word in ("not found", "404", "repository", "does not appear", "not a valid")):
        why = "no such model was found (check the id or path)"
    else:
        why = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'unknown error'}"
    return _sentence(model_id, why)
