"""The one typed request that flows from every front door into the engine, and its result.

Limits live here so the UI, the CLI, the REST API and the worker all quote the same numbers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inference.contract.errors import InvalidRequest
from inference.prompting.script import MAX_SPEAKERS, has_official_tags, parse_script

SAMPLE_RATE = 24_000
FRAME_RATE = 25  # audio tokenizer frames per second; one generation step = one frame
MAX_TEXT_CHARS = 2_000
MAX_SCENE_CHARS = 1_000
MAX_REFERENCE_TEXT_CHARS = 1_000
MAX_NEW_TOKENS = 4_096  # ~164 s of audio
# The 8 codebooks are generated with a one-step delay each: the stream's first row and 7 delay rows
# come before the first whole frame, so fewer than 9 steps can never give any audio.
MIN_NEW_TOKENS = 9
MAX_SEED = 2**32 - 1
MAX_DESCRIPTION_CHARS = 300  # a described voice, e.g. "warm, low male voice, British accent"
MAX_PAUSE_S = 5.0
DEFAULT_PAUSE_S = 0.3  # between the turns of a dialogue
VOICE_LAYOUTS = ("scene", "separate")  # see inference/dialogue.py
MAX_CANDIDATES = 4  # best of N takes (studio/best_of.py)


def too_many_speakers(count: int) -> str:
    return f"speakers gives {count} voices; a script has at most {MAX_SPEAKERS} speakers"


def check_speaker_count(speakers: dict) -> None:
    """Doors call this before reading each speaker's voice: reading 400,000 of them first held every route
    (the event loop, the GIL) for 21 s before the request's own check refused them."""
    if len(speakers) > MAX_SPEAKERS:
        raise InvalidRequest(too_many_speakers(len(speakers)) + ".")


class SamplingOptions(BaseModel):
    """How the audio codes are sampled. Defaults follow Boson AI's serve engine."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="0 picks the most likely code (greedy)")
    top_p: float = Field(0.95, gt=0.0, le=1.0)
    top_k: int = Field(50, ge=0, le=1024, description="0 disables top-k")
    max_new_tokens: int = Field(2048, ge=MIN_NEW_TOKENS, le=MAX_NEW_TOKENS, description="one token = 40 ms of audio")
    ras_win_len: int = Field(7, ge=0, le=64, description="repetition-aware sampling window; 0 disables")
    ras_max_repeats: int = Field(2, ge=1, le=64, description="repeats allowed inside the window")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value: Any) -> Any:
        return _refuse_boolean(value)


class SpeakerVoice(BaseModel):
    """One dialogue speaker's voice: a clip with its transcript, a description in words, or neither (the
    model picks a voice: smart voice). Front doors resolve presets and saved voices to a clip."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    reference_audio: Path | bytes | None = Field(None, description="a clip of the voice: a file path or its bytes")
    reference_text: str | None = Field(None, max_length=MAX_REFERENCE_TEXT_CHARS)
    description: str | None = Field(None, max_length=MAX_DESCRIPTION_CHARS, description="a voice described in words")
    adapter: str | None = Field(None, description="a trained voice's name: its LoRA adapter speaks this speaker's turns")

    @field_validator("adapter")
    @classmethod
    def _adapter_is_a_name(cls, value: str | None) -> str | None:
        return adapter_name(value)

    @field_validator("reference_audio", mode="before")
    @classmethod
    def _str_is_path(cls, value: Any) -> Any:
        return Path(value) if isinstance(value, str) else value

    @field_validator("reference_audio")
    @classmethod
    def _clip_exists(cls, value: Path | bytes | None) -> Path | bytes | None:
        return _existing_audio(value)

    @field_validator("reference_text", "description")
    @classmethod
    def _blank_is_none(cls, value: str | None, info) -> str | None:
        return _plain_text(info.field_name, value).strip() or None if value is not None else None

    @property
    def is_smart(self) -> bool:
        return self.reference_audio is None and not self.description and not self.adapter


class SynthesisRequest(BaseModel):
    """Everything one take needs. Unknown fields are rejected, never silently ignored.

    A dialogue is the same request: `speakers` (a voice per speaker name, possibly empty) or official
    `[SPEAKER0]` tags make `text` a script (see inference/script.py)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    text: str = Field(..., description=f"what to say, at most {MAX_TEXT_CHARS} characters")
    reference_audio: Path | bytes | None = Field(
        None, description="a clip of the voice to clone: a file path or the file's bytes"
    )
    reference_text: str | None = Field(None, max_length=MAX_REFERENCE_TEXT_CHARS)
    scene: str | None = Field(None, max_length=MAX_SCENE_CHARS, description="tone / scene description")
    sampling: SamplingOptions = Field(default_factory=SamplingOptions)
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="None draws a fresh seed")
    speakers: dict[str, SpeakerVoice] | None = Field(
        None, description=f"dialogue: a voice per speaker name of the script (at most {MAX_SPEAKERS})")
    pause_s: float = Field(DEFAULT_PAUSE_S, ge=0.0, le=MAX_PAUSE_S, description="dialogue: seconds between turns")
    voice_layout: Literal["scene", "separate"] = Field(
        "scene", description="dialogue: 'scene' = every reference in every turn's prompt (official); "
                             "'separate' = only the speaking voice in each turn's prompt")
    candidates: int = Field(1, ge=1, le=MAX_CANDIDATES,
                            description="takes to make with different seeds; the best-scored one is kept")
    parts: Literal["length", "sentence"] = Field(
        "length", description="how a long text (or a long dialogue turn) is cut into parts, each generated with the "
                              "parts before it as context: 'length' gathers sentences into parts of ~100 words; "
                              "'sentence' makes every sentence a part of its own, to revise one sentence at a time")
    adapter: str | None = Field(None, description="a trained voice's name: its LoRA adapter speaks this take "
                                                  "(with or without a reference clip)")

    @property
    def is_dialogue(self) -> bool:
        return self.speakers is not None or has_official_tags(self.text)

    @model_validator(mode="after")
    def _script_is_speakable(self) -> SynthesisRequest:
        if not self.is_dialogue:
            return self
        if self.reference_audio is not None or self.reference_text:
            raise ValueError("a dialogue (a script, or [SPEAKER0] tags in the text) takes a voice per speaker "
                             "(speakers, or the studio's Dialogue tab), not reference_audio/reference_text")
        if self.speakers and len(self.speakers) > MAX_SPEAKERS:
            raise ValueError(too_many_speakers(len(self.speakers)))
        seen: dict[str, str] = {}
        for name in self.speakers or {}:  # scripts match names without case (Script.number_of)
            if (first := seen.setdefault(name.strip().casefold(), name)) != name:
                raise ValueError(f"speakers {first!r} and {name!r} name the same speaker; give one voice per speaker")
        parse_script(self.text)  # ScriptError is a ValueError: its sentence becomes the message
        return self

    @field_validator("adapter")
    @classmethod
    def _adapter_is_a_name(cls, value: str | None) -> str | None:
        return adapter_name(value)

    @property
    def trained_voices(self) -> set[str]:
        """The trained voices (adapter names) this take uses: its own and its speakers'."""
        return {name for name in (self.adapter, *(v.adapter for v in (self.speakers or {}).values())) if name}

    @field_validator("text")
    @classmethod
    def _text_has_words(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError("there is no text to speak: type at least one word")
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"the text is {len(value)} characters long; the limit is {MAX_TEXT_CHARS}")
        return _plain_text("text", value)

    @field_validator("reference_text", "scene")
    @classmethod
    def _blank_is_none(cls, value: str | None, info) -> str | None:
        return _plain_text(info.field_name, value).strip() or None if value is not None else None

    @field_validator("seed", "pause_s", "candidates", mode="before")
    @classmethod
    def _seed_is_no_boolean(cls, value: Any) -> Any:
        return _refuse_boolean(value)

    @field_validator("reference_audio")
    @classmethod
    def _path_exists(cls, value: Path | bytes | None) -> Path | bytes | None:
        return _existing_audio(value)

    @classmethod
    def parse(cls, **fields: Any) -> SynthesisRequest:
        """Build a request, turning pydantic's errors into one readable sentence."""
        sampling_keys = set(SamplingOptions.model_fields)
        sampling = {k: fields.pop(k) for k in list(fields) if k in sampling_keys}
        sampling = {k: v for k, v in sampling.items() if v is not None}
        if isinstance(fields.get("reference_audio"), str):
            fields["reference_audio"] = Path(fields["reference_audio"])
        try:
            if sampling:
                fields["sampling"] = SamplingOptions(**{**fields.get("sampling", {}), **sampling})
            return cls(**fields)
        except ValidationError as err:
            raise InvalidRequest(describe_validation_error(err)) from None


_ADAPTER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")  # a trained voice's folder (inference/model/cards.py)
# The model's own control tokens (<|AUDIO_OUT|>, <|eot_id|>, ...): typed into a text they would open
# turns or audio slots the prompt does not have.
_CONTROL_TOKEN = re.compile(r"<\|[^<>|]{1,40}\|>")
_NOT_TEXT = "holds characters that are not valid text (a broken emoji or copy-paste?)"


def _plain_text(name: str, value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} {_NOT_TEXT}") from None
    if token := _CONTROL_TOKEN.search(value):
        raise ValueError(f"{name} may not contain the model's control token {token.group()}")
    return value


def adapter_name(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and not _ADAPTER_NAME.match(value):
        raise ValueError(f"adapter {_show(value)!r} is not a trained voice's name (lower-case letters, digits, "
                         "'-' and '_', at most 64)")
    return value


def _existing_audio(value: Path | bytes | None) -> Path | bytes | None:
    if isinstance(value, Path) and not value.is_file():
        raise ValueError(f"there is no reference audio file named {value.name!r}")  # never the server's folders
    if isinstance(value, bytes) and not value:
        raise ValueError("the reference audio file is empty")
    return value


def _refuse_boolean(value: Any) -> Any:
    """JSON's true/false are numbers to pydantic (true == 1); here they are a mistake, not a 1."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


def optional_text(name: str, value: Any) -> str | None:
    """A free-text field as it arrived (JSON, a form): None or a string. A number or a list is refused,
    never spoken as its Python spelling ("123", "['a', 'b']")."""
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequest(f"Invalid request: {_wrong_type(name, value)}.")


def _wrong_type(name: str, got: Any) -> str:
    return f"{name} has the wrong type (got {_show(repr(got))})"


def _show(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe_validation_error(err: ValidationError) -> str:
    """One sentence per problem, naming the field the person typed, not pydantic's internals."""
    sentences = []
    for problem in err.errors():
        name = ".".join(str(part) for part in problem["loc"] if part != "sampling") or "request"
        kind = problem["type"]
        ctx = problem.get("ctx", {})
        got = problem.get("input")
        if kind == "extra_forbidden" and problem["loc"][0] == "speakers":
            sentences.append(f"unknown field '{name}' (a speaker's voice takes: {', '.join(SpeakerVoice.model_fields)})")
        elif kind == "extra_forbidden":
            allowed = sorted(set(SynthesisRequest.model_fields) - {"sampling"} | set(SamplingOptions.model_fields))
            sentences.append(f"unknown field '{name}' (allowed: {', '.join(allowed)})")
        elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            bound = {"greater_than_equal": "at least", "less_than_equal": "at most",
                     "greater_than": "more than", "less_than": "less than"}[kind]
            limit = next(iter(ctx.values()))
            sentences.append(f"{name} must be {bound} {limit} (got {_show(got)})")
        elif kind == "string_too_long":
            sentences.append(f"{name} is too long: at most {ctx.get('max_length')} characters")
        elif kind == "missing":
            sentences.append(f"{name} is required")
        elif kind == "value_error":
            message = problem["msg"].removeprefix("Value error, ")
            sentences.append(f"{name} {message}" if message.startswith("must be") else message)
        elif kind == "int_from_float":
            sentences.append(f"{name} must be a whole number (got {_show(got)})")
        elif kind == "int_parsing_size":  # e.g. 1e308: a number far past any limit
            sentences.append(f"{name} is far too large (got {_show(got)})")
        elif kind == "string_unicode":
            sentences.append(f"{name} {_NOT_TEXT}")  # pydantic's own check, on optional strings
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            sentences.append(_wrong_type(name, got))
        else:
            sentences.append(f"{name}: {problem['msg']}")
    return "Invalid request: " + "; ".join(sentence.rstrip(".") for sentence in sentences) + "."
