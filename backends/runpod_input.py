"""A SynthesisRequest as a RunPod job's input (wire/runpod_job.py), as backends/runpod.py sends it; the clips
travel as base64, within RunPod's payload cap."""

from __future__ import annotations

import base64
from pathlib import Path

from inference.contract.errors import InvalidRequest
from inference.contract.request import SpeakerVoice, SynthesisRequest
from wire.runpod_job import SpeakerInput, TakeInput

from .shared import reference_bytes

MAX_REFERENCE_UPLOAD = 8 * 2**20  # RunPod caps a job's payload (10 MB for /run, 20 MB for /runsync)


def job_input(request: SynthesisRequest) -> dict:
    """A SynthesisRequest as a worker job input (wire/runpod_job.py); clips travel as base64."""
    if request.trained_voices:  # the worker keeps its own trained voices, under its own names
        raise InvalidRequest(f"The trained voice {min(request.trained_voices)!r} lives beside this studio, not on the RunPod "
                             "worker: put it in the worker's HVS_TRAINED_DIR and name it as the job's voice.")
    fields = {"output": "wav", **request.sampling.model_dump()}
    fields.update({name: getattr(request, name) for name in ("reference_text", "scene", "seed")
                   if getattr(request, name) is not None})
    if request.reference_audio is not None:
        fields["reference_audio_base64"] = _base64_clip(request.reference_audio)
    if request.parts != "length":
        fields["parts"] = request.parts
    if request.is_dialogue:
        fields.update(script=request.text, pause_s=request.pause_s, voice_layout=request.voice_layout,
                      speakers={name: _speaker(voice) for name, voice in (request.speakers or {}).items()})
    else:
        fields["text"] = request.text
    return TakeInput(**fields).to_json()


def _speaker(voice: SpeakerVoice) -> SpeakerInput:
    clip = _base64_clip(voice.reference_audio) if voice.reference_audio is not None else None
    given = {"reference_audio_base64": clip, "reference_text": voice.reference_text, "description": voice.description}
    return SpeakerInput(**{name: value for name, value in given.items() if value is not None})


def _base64_clip(clip: Path | bytes) -> str:
    return base64.b64encode(reference_bytes(clip, MAX_REFERENCE_UPLOAD)).decode()
