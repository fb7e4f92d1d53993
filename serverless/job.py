"""A RunPod job's input (wire/runpod_job.py) -> a SynthesisRequest plus the worker's own options.

The wire model checks the job's shape and the worker's own fields (how the reference arrives, output
format, S3 prefix, streaming); everything else is validated by `SynthesisRequest.parse`, like every other
front door. A dialogue is `script` (instead of `text`) with `speakers`: a name -> that speaker's voice, given
the ways a single reference is (reference_audio_base64 / reference_audio_url / voice, reference_text) or as
words (`description`). A `voice` goes through the studio's one voice rule (studio/voices.py): smart, a preset,
a described voice, one of OpenAI's names, or words; a description lands in the scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from inference.contract.errors import InvalidRequest
from inference.contract.request import SynthesisRequest, describe_validation_error
from studio.revise import Edit
from studio.take_request import TakeRequest, engine_request
from studio.voices import Voice, VoiceResolver, VoiceSpec
from wire.fetch import FetchLimits, decode_base64_audio, fetch_reference
from wire.objects import kind_of as _kind
from wire.runpod_job import REFERENCE_FIELDS, DetectJob, HealthJob, ReviseInput, ReviseJob, TakeInput


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


def is_revise_job(job_input: Any) -> bool:
    return isinstance(job_input, dict) and "revise" in job_input


def parse_revise_job(job_input: dict, limits: FetchLimits | None = None) -> tuple[ReviseInput, Edit, list[bytes]]:
    """`{"revise": {...}}` -> (its input, the edit, the clips' bytes). The recipe itself is checked by the service."""
    try:
        given = ReviseJob.model_validate(job_input).revise
    except ValidationError as err:  # output not wav/mp3, no recipe: the field and the rule, in a sentence
        raise InvalidRequest(describe_validation_error(err)) from None
    edit = Edit(part=given.part, action=given.action or "regenerate", text=given.text, seed=given.seed,
                variant=given.variant, pause_s=given.pause_s, speaker=given.speaker)
    clips = []
    for number, clip in enumerate(given.clips):
        try:
            if urlsplit(clip.strip()).scheme.lower() in ("http", "https"):
                clips.append(fetch_reference(clip.strip(), limits))
            else:
                clips.append(decode_base64_audio(clip, (limits or FetchLimits()).max_bytes, name=f"clips[{number}]"))
        except InvalidRequest as err:
            raise InvalidRequest(f"revise.clips[{number}]: {err}") from None
    return given, edit, clips


def parse_job(job_input: Any, voices: VoiceResolver | None = None, limits: FetchLimits | None = None) -> ParsedJob:
    """Validate a job input, cheapest checks first. Raises InvalidRequest with a message naming the bad field(s)."""
    job = TakeInput.model_validate(job_input)  # its shape and the worker's own fields
    voices = voices or VoiceResolver()
    fields = job.request_fields()
    if job.is_dialogue:
        return ParsedJob(_parse_dialogue(job, fields, voices, limits), job)
    given = (job.reference_given or [None])[0]
    request = SynthesisRequest.parse(**fields)  # cheap checks first, before any download
    if not given:
        return ParsedJob(request, job)
    voice = _voice(given, getattr(job, given), request.reference_text, None, voices, "", limits)
    return ParsedJob(engine_request(_take(fields, voice=voice), voices), job)


def _take(fields: dict, **voices: Any) -> TakeRequest:
    """The job's request fields as the studio's front request (its voices given apart)."""
    fields = {k: v for k, v in fields.items() if k != "reference_text"}  # the transcript went with the clip
    text, scene, seed = fields.pop("text", ""), fields.pop("scene", None), fields.pop("seed", None)
    return TakeRequest(text, scene=scene, seed=seed, options=fields, **voices)


def _voice(field: str | None, value: Any, reference_text: Any, description: Any, voices: VoiceResolver,
           where: str, limits: FetchLimits | None = None) -> Voice:
    """One voice, however it arrives (a clip as base64 or a URL, or a `voice` name) -> the studio's one
    voice rule (studio/voices.py)."""
    clip = None
    if field is not None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{where}{field} must be a non-empty string (got {_kind(value)}).")
        try:
            if field == "reference_audio_base64":
                clip = decode_base64_audio(value, (limits or FetchLimits()).max_bytes)
            elif field == "reference_audio_url":
                clip = fetch_reference(value.strip(), limits)
        except InvalidRequest as err:
            raise InvalidRequest(f"{where}{err}") from None
    spec = VoiceSpec(name=value if field == "voice" else None, clip=clip, clip_text=reference_text,
                     description=description)
    try:
        return voices.resolve(spec)
    except InvalidRequest as err:
        raise InvalidRequest(f"{where}{err}") from None


def _parse_dialogue(job: TakeInput, fields: dict, voices: VoiceResolver,
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
    chosen = {}
    for name, spec in speakers.items():
        given = (spec.reference_given or [None])[0]
        chosen[name] = _voice(given, getattr(spec, given) if given else None, spec.reference_text, spec.description,
                              voices, f"speakers.{name}: ", limits)
    return engine_request(_take(fields, speakers=chosen), voices)
