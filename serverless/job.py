"""A RunPod job's input (wire/runpod_job.py) -> a SynthesisRequest plus the worker's own options.

The wire model checks the job's shape and the worker's own fields (how the reference arrives, output
format, S3 prefix, streaming); everything else is validated by `SynthesisRequest.parse`, like every other
front door. A dialogue is `script` (instead of `text`) with `speakers`: a name -> that speaker's voice, given
the ways a single reference is (reference_audio_base64 / reference_audio_url / voice, reference_text) or as
words (`description`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from inference.contract.errors import InvalidRequest
from inference.contract.request import SynthesisRequest
from studio.voice_library import VoiceLibrary
from wire.fetch import FetchLimits, decode_base64_audio, fetch_reference
from wire.objects import kind_of as _kind
from wire.runpod_job import REFERENCE_FIELDS, DetectJob, HealthJob, TakeInput


@dataclass
class ParsedJob:
    request: SynthesisRequest
    options: TakeInput  # what the worker does with the take: output, s3_prefix, stream, prompt_only, check


def is_health_job(job_input: Any) -> bool:
    return isinstance(job_input, dict) and "health" in job_input


def check_health_job(job_input: dict) -> None:
    HealthJob.model_validate(job_input)


def is_detect_job(job_input: Any) -> bool:
    return isinstance(job_input, dict) and "detect" in job_input


def detect_job_audio(job_input: dict, limits: FetchLimits | None = None) -> bytes:
    """`{"detect": <base64, a data: URL, or an http(s) URL of an audio file>}` -> the file's bytes."""
    value = DetectJob.model_validate(job_input).detect
    if urlsplit(value).scheme.lower() in ("http", "https"):
        try:
            return fetch_reference(value, limits)
        except InvalidRequest as err:
            raise InvalidRequest(str(err).replace("reference_audio_url", "detect URL")) from None
    return decode_base64_audio(value, (limits or FetchLimits()).max_bytes, name="detect")


def parse_job(job_input: Any, voices: VoiceLibrary | None = None, limits: FetchLimits | None = None) -> ParsedJob:
    """Validate a job input, cheapest checks first. Raises InvalidRequest with a message naming the bad field(s)."""
    job = TakeInput.model_validate(job_input)  # its shape and the worker's own fields
    fields = job.request_fields()
    if job.is_dialogue:
        return ParsedJob(_parse_dialogue(job, fields, voices, limits), job)
    given = (job.reference_given or [None])[0]
    request = SynthesisRequest.parse(**fields)  # cheap checks first, before any download
    if not given:
        return ParsedJob(request, job)
    fields.update(_reference(given, getattr(job, given), request.reference_text, voices, "", limits))
    return ParsedJob(SynthesisRequest.parse(**fields), job)


def _reference(name: str, value: Any, reference_text: str | None, voices: VoiceLibrary | None, where: str,
               limits: FetchLimits | None = None) -> dict:
    """One reference voice, however it arrives -> reference_audio (and a preset's transcript)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{where}{name} must be a non-empty string (got {_kind(value)}).")
    try:
        if name == "reference_audio_base64":
            return {"reference_audio": decode_base64_audio(value, (limits or FetchLimits()).max_bytes)}
        if name == "reference_audio_url":
            return {"reference_audio": fetch_reference(value.strip(), limits)}
    except InvalidRequest as err:
        raise InvalidRequest(f"{where}{err}") from None
    preset = (voices or VoiceLibrary()).get(value.strip())
    if reference_text:
        raise InvalidRequest(
            f"{where}reference_text cannot be combined with the preset voice {preset.name!r}: it has its own transcript."
        )
    return {"reference_audio": preset.audio_path, "reference_text": preset.transcript}


def _parse_dialogue(job: TakeInput, fields: dict, voices: VoiceLibrary | None,
                    limits: FetchLimits | None = None) -> SynthesisRequest:
    """`script` + `speakers` -> a dialogue request; every speaker's clip is fetched after the cheap checks."""
    if "text" in fields:
        raise InvalidRequest("Give either 'text' or 'script' (a dialogue), not both.")
    single = [k for k in (*REFERENCE_FIELDS, "reference_text") if k in job.model_fields_set]
    if single:
        raise InvalidRequest(f"A dialogue takes a voice per speaker in 'speakers', not {', '.join(single)}.")
    speakers = job.speakers or {}
    fields = {**fields, "text": job.script if "script" in job.model_fields_set else ""}
    words = {name: spec.model_dump(include={"reference_text", "description"}, exclude_unset=True)
             for name, spec in speakers.items()}
    SynthesisRequest.parse(**fields, speakers=words)  # the script and every option, before any download
    for name, spec in speakers.items():
        if given := spec.reference_given:
            where = f"speakers.{name}: "
            words[name].update(_reference(given[0], getattr(spec, given[0]), spec.reference_text, voices, where,
                                          limits))
    return SynthesisRequest.parse(**fields, speakers=words)
