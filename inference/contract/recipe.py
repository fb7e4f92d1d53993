"""A take's recipe: a small JSON document that describes a finished take exactly, so that it can be rendered
again bit for bit and edited part by part (see docs/editing.md).

It holds the model id, the voices by reference (a preset or trained voice's name, a description, or a clip's
sha256 and duration: never audio), the scene, the sampling options, and per part (a long text's chunk or a
dialogue turn) its text, speaker, seed and generated audio codes, up to MAX_VARIANTS variants of it and which
one is chosen. Codes are aligned frames (F x 8 codebooks, 0..1023) stored as the 8 codebook rows in int16
little-endian, base64: 400 bytes per second of audio (24 KB a minute, 32 KB in base64).

It lives in the engine's contract because the engine writes it (every take) and reads it (render, revise),
and every layer above may import the contract: it needs no torch, so wire/, the service and the doors use
it as it is. A recipe is untrusted input: `load_recipe` caps its size, its part and variant counts, checks
the codes' range and the schema version, and says in words what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from inference.contract.errors import InvalidRequest
from inference.contract.request import (
    MAX_NEW_TOKENS,
    MAX_PAUSE_S,
    MAX_SEED,
    MAX_TEXT_CHARS,
    SAMPLE_RATE,
    SamplingOptions,
    _plain_text,
    adapter_name,
)

RECIPE_FORMAT = "higgs-voice-studio/recipe"
RECIPE_VERSION = 1
MAX_RECIPE_BYTES = 8_000_000  # ~4 hours of audio in one variant a part; a long chapter with 4 variants fits
MAX_PARTS = 64
MAX_VARIANTS = 4
CODEBOOKS = 8
CODEBOOK_SIZE = 1024
HOP = 960  # samples per frame at SAMPLE_RATE (25 frames a second)
# The most audio a take's chosen parts may hold: 20 minutes, several times the longest speech of a 2000-character
# text. 64 parts of MAX_NEW_TOKENS frames fit in MAX_RECIPE_BYTES but are three hours, which render decoded into
# ~6 GB of memory and minutes of compute from one small request.
FRAMES_A_MINUTE = 60 * SAMPLE_RATE // HOP
MAX_TAKE_FRAMES = 20 * FRAMES_A_MINUTE


def pack_codes(frames: np.ndarray) -> str:
    """Aligned frames (F x 8 integers in 0..1023) -> base64 of the 8 codebook rows, int16 little-endian."""
    rows = np.asarray(frames).T.astype("<i2")
    return base64.b64encode(np.ascontiguousarray(rows).tobytes()).decode("ascii")


def unpack_codes(text: str) -> np.ndarray:
    """base64 codes -> aligned frames (F x 8, int64). Raises ValueError in words."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("codes are not valid base64") from None
    if len(raw) % (2 * CODEBOOKS):
        raise ValueError(f"codes hold {len(raw)} bytes, not whole frames of {CODEBOOKS} int16 codes")
    rows = np.frombuffer(raw, dtype="<i2").reshape(CODEBOOKS, -1)
    if rows.shape[1] == 0:
        raise ValueError("codes hold no frame")
    if rows.shape[1] > MAX_NEW_TOKENS:
        raise ValueError(f"codes hold {rows.shape[1]} frames; a part has at most {MAX_NEW_TOKENS}")
    if rows.min() < 0 or rows.max() >= CODEBOOK_SIZE:
        raise ValueError(f"codes must be in 0..{CODEBOOK_SIZE - 1} (found {int(rows.min())}..{int(rows.max())})")
    return rows.T.astype(np.int64)


class VoiceRef(BaseModel):
    """A voice by reference. A clip is named by its sha256 and duration: whoever renders or revises the take
    supplies the clip again (a preset's clip is found by its hash); a described voice needs nothing."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200, description="a preset or described voice's name")
    description: str | None = Field(None, max_length=1000)
    adapter: str | None = Field(None, max_length=200, description="a trained voice's name")
    clip_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    clip_s: float | None = Field(None, ge=0.0, le=3600.0)
    transcript: str | None = Field(None, max_length=MAX_TEXT_CHARS)

    @field_validator("transcript", "description")
    @classmethod
    def _plain(cls, value: str | None, info) -> str | None:
        return value if value is None else _plain_text(info.field_name, value)

    @field_validator("adapter")
    @classmethod
    def _adapter_is_a_name(cls, value: str | None) -> str | None:
        return adapter_name(value)  # a folder name, as a request's: never a path


class Variant(BaseModel):
    """One generation of a part: what was asked, with which seed, and the codes that came out."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=MAX_TEXT_CHARS, description="as the model read it")
    caption: str = Field("", max_length=MAX_TEXT_CHARS, description="the words, for subtitles")
    seed: int = Field(..., ge=0, le=MAX_SEED)
    codes: str = Field(..., max_length=MAX_RECIPE_BYTES)

    @field_validator("text", "caption")
    @classmethod
    def _plain(cls, value: str, info) -> str:
        return _plain_text(info.field_name, value)  # no control tokens: the text goes into later parts' prompts

    @field_validator("codes")
    @classmethod
    def _codes_in_range(cls, value: str) -> str:
        unpack_codes(value)
        return value

    @property
    def frames(self) -> np.ndarray:
        return unpack_codes(self.codes)

    @property
    def samples(self) -> int:
        return len(base64.b64decode(self.codes)) // (2 * CODEBOOKS) * HOP


class RecipePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: str | None = Field(None, max_length=100)
    voice: int | None = Field(None, ge=0, le=9, description="the model's speaker number (SPEAKERn)")
    pause_before_s: float = Field(0.0, ge=0.0, le=MAX_PAUSE_S)
    variants: list[Variant] = Field(..., min_length=1, max_length=MAX_VARIANTS)
    chosen: int = Field(0, ge=0)
    start_s: float = 0.0  # where the part sits in the take (written by render, for people and players)
    end_s: float = 0.0

    @model_validator(mode="after")
    def _chosen_exists(self) -> RecipePart:
        if self.chosen >= len(self.variants):
            raise ValueError(f"chosen is {self.chosen} but the part has {len(self.variants)} variants")
        return self

    @property
    def take(self) -> Variant:
        return self.variants[self.chosen]


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["higgs-voice-studio/recipe"] = RECIPE_FORMAT
    version: int = Field(RECIPE_VERSION, ge=1, le=RECIPE_VERSION, strict=True)
    model: str = Field(..., min_length=1, max_length=300)
    text: str = Field(..., max_length=MAX_TEXT_CHARS, description="the request's text (a dialogue's script)")
    dialogue: bool = False
    voice: VoiceRef | None = None  # one voice (None: the model picks: smart voice)
    speakers: dict[str, VoiceRef] | None = Field(None, max_length=9, description="a dialogue's voices by name")
    scene: str | None = Field(None, max_length=4000)
    sampling: SamplingOptions = Field(default_factory=SamplingOptions)
    seed: int = Field(0, ge=0, le=MAX_SEED, description="the take's seed (part i was made with seed + i)")
    pause_s: float = Field(0.3, ge=0.0, le=MAX_PAUSE_S)
    voice_layout: Literal["scene", "separate"] = "scene"
    sample_rate: Literal[24000] = SAMPLE_RATE
    parts: list[RecipePart] = Field(..., min_length=1, max_length=MAX_PARTS)

    def voice_refs(self) -> dict[str | None, VoiceRef | None]:
        """The take's voices by key: None for a single voice, each speaker's name in a dialogue."""
        return dict(self.speakers or {}) if self.dialogue else {None: self.voice}

    def check_length(self) -> None:
        """Raises InvalidRequest when the chosen parts hold more than MAX_TAKE_FRAMES of audio. Checked on a
        recipe that comes in and before rendering an edit, not when a take writes its recipe: a take that ran
        that long keeps its audio (its recipe then cannot be rendered or edited)."""
        frames = sum(part.take.samples // HOP for part in self.parts)
        if frames > MAX_TAKE_FRAMES:
            raise InvalidRequest(f"This take would hold {frames / FRAMES_A_MINUTE:.1f} minutes of audio; a take holds at "
                                 f"most {MAX_TAKE_FRAMES // FRAMES_A_MINUTE} minutes: keep fewer or shorter parts.")

    def check_model(self, model_id: str) -> None:
        if self.model != model_id:
            raise InvalidRequest(
                f"This recipe was made with the model '{self.model}', and this studio runs '{model_id}'. Its audio "
                f"codes only mean something to the model that made them: open it on a studio running '{self.model}'.")

    def check_part(self, index: Any, after: bool = False) -> int:
        """A part number from a caller (0-based; -1 with `after` = before the first part) -> int, in range."""
        low = -1 if after else 0
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidRequest(f"The part must be a whole number (got {str(index)[:40]!r}).")
        if not low <= index < len(self.parts):
            raise InvalidRequest(f"There is no part {index} in this take: its parts are numbered 0 to "
                                 f"{len(self.parts) - 1}.")
        return index

    def positions(self) -> list[tuple[int, int]]:
        """Each part's first and end sample in the take: pauses, then the parts one after the other."""
        spans, at = [], 0
        for number, part in enumerate(self.parts):
            at += pause_samples(part.pause_before_s) if number else 0
            spans.append((at, at + part.take.samples))
            at += part.take.samples
        return spans

    def timed(self) -> Recipe:
        """The recipe with every part's start_s/end_s set from its place in the take."""
        parts = [part.model_copy(update={"start_s": start / SAMPLE_RATE, "end_s": end / SAMPLE_RATE})
                 for part, (start, end) in zip(self.parts, self.positions(), strict=True)]
        return self.model_copy(update={"parts": parts})

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def clip_sha256(audio: Path | bytes) -> str:
    """The hash that names a reference clip in a recipe: of the file's bytes, as the caller sent them."""
    return hashlib.sha256(audio if isinstance(audio, bytes) else Path(audio).read_bytes()).hexdigest()


def pause_samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))  # as inference/audio/seams.silence counts it


def load_recipe(data: Any, renderable: bool = True) -> Recipe:
    """A recipe from a caller: a Recipe, its JSON text or bytes, or the parsed object. Raises InvalidRequest
    with a sentence for a malformed, oversized or future recipe, or codes out of range; with `renderable`, also
    for one longer than a take may be rendered (a remote worker's own take passes False: it keeps its recipe)."""
    if isinstance(data, Recipe):
        return data
    if isinstance(data, (str, bytes)):
        _check_size(len(data))
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise InvalidRequest("This recipe is not valid JSON: load the .json file the studio gave with the take."
                                 ) from None
    elif isinstance(data, dict):
        try:
            _check_size(len(json.dumps(data)))
        except (TypeError, ValueError, RecursionError):
            raise InvalidRequest("This recipe is not a JSON object the studio can read.") from None
    if not isinstance(data, dict) or data.get("format") != RECIPE_FORMAT:
        raise InvalidRequest(f"This is not a take recipe (a JSON object with \"format\": \"{RECIPE_FORMAT}\").")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > RECIPE_VERSION:
        raise InvalidRequest(f"This recipe was made by a newer studio (recipe version {version}; this studio reads "
                             f"version {RECIPE_VERSION}). Update the studio to edit it.")
    parts = data.get("parts")
    if isinstance(parts, list) and len(parts) > MAX_PARTS:
        raise InvalidRequest(f"This recipe has {len(parts)} parts; a take has at most {MAX_PARTS}.")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as err:
        raise InvalidRequest("This recipe cannot be used: " + _describe(err) + ".") from None
    if renderable:
        recipe.check_length()
    return recipe


def _check_size(size: int) -> None:
    if size > MAX_RECIPE_BYTES:
        raise InvalidRequest(f"This recipe is {size / 1e6:.1f} MB; a recipe may be at most "
                             f"{MAX_RECIPE_BYTES / 1e6:.0f} MB.")


def _describe(err: ValidationError) -> str:
    sentences = []
    for problem in err.errors()[:3]:
        where = ".".join(str(p) for p in problem["loc"]) or "recipe"
        message = problem["msg"].removeprefix("Value error, ")
        sentences.append(f"{where}: {message}")
    more = len(err.errors()) - len(sentences)
    return "; ".join(sentences) + (f" (and {more} more)" if more > 0 else "")
