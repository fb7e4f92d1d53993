"""Transcribing a reference clip with Whisper (transformers' ASR pipeline), loaded on first use.

The studio needs the exact words of the reference clip for a close clone; people rarely type them.
The model loads lazily (most visitors never need it) and a load failure becomes one clear sentence.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.audio.incoming import read_clip
from inference.audio.reference import REFERENCE_CLIP
from inference.contract.errors import InvalidAudio
from inference.model.lazy_model import NOT_CACHED, LazyModel

DEFAULT_ASR_MODEL = "openai/whisper-base"
ASR_SAMPLE_RATE = 16_000


class Transcriber(LazyModel):
    """`Transcriber(model_id).transcribe(path_or_bytes) -> str`. Thread-safe; loads once."""

    default = DEFAULT_ASR_MODEL
    off_message = "Transcription is turned off on this server (no --asr-model); type the transcript."

    def _build(self):
        from transformers import pipeline

        return pipeline("automatic-speech-recognition", model=self.model_id, device=self.device)

    def _describe_failure(self, err: Exception) -> str:
        return _describe_load_error(self.model_id, err)

    def _unavailable_message(self, why: str) -> str:
        return _sentence(self.model_id, why)

    def transcribe(self, audio: Path | str | bytes, language: str | None = None) -> str:
        """The words spoken in a clip. Raises InvalidAudio (bad clip) or ModelLoadError (no ASR model)."""
        source = Path(audio) if isinstance(audio, str) else audio
        wave = read_clip(source, REFERENCE_CLIP, ASR_SAMPLE_RATE)  # as much as a reference can use
        if wave.size == 0 or float(np.max(np.abs(wave))) < 1e-3:
            raise InvalidAudio("The clip is silent: there is nothing to transcribe.")
        asr = self.load()
        kwargs = {"generate_kwargs": {"language": language}} if language else {}
        if wave.size > 30 * ASR_SAMPLE_RATE:  # Whisper reads 30 s windows; chunk longer clips
            kwargs["chunk_length_s"] = 30
        out = asr({"raw": wave, "sampling_rate": ASR_SAMPLE_RATE}, **kwargs)
        return " ".join(str(out.get("text", "")).split())


def _describe_load_error(model_id: str, err: Exception) -> str:
    text = f"{type(err).__name__}: {err}".lower()
    if model_id.startswith(("/", "./", "../", "~")) and not Path(model_id).expanduser().exists():
        why = "there is no model at that path"
    elif any(word in text for word in ("offline", "connect", "network", "resolve", "timed out", "couldn't find")) or (
        _hub_offline()
    ):
        why = NOT_CACHED
    elif any(word in text for word in ("not found", "404", "repository", "does not appear", "not a valid")):
        why = "no such model was found (check the id or path)"
    else:
        why = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else 'unknown error'}"
    return _sentence(model_id, why)


def _hub_offline() -> bool:
    import huggingface_hub

    return bool(huggingface_hub.constants.HF_HUB_OFFLINE)  # the hub's reading of HF_HUB_OFFLINE


def _sentence(model_id: str, why: str) -> str:
    return (f"The transcription model {model_id!r} could not be loaded: {why}. "
            "Type the transcript yourself, or start the studio with another --asr-model.")
