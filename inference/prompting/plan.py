"""A request checked and split into parts (long-text chunks or dialogue turns), with what each part's prompt
needs: the references prepared, the text normalized, the warnings a take carries."""

from __future__ import annotations

import time
from dataclasses import dataclass

from inference.audio.reference import prepare_reference
from inference.contract.engine import NOISE_WARNING
from inference.contract.errors import InvalidRequest
from inference.contract.recipe import MAX_PARTS
from inference.contract.request import FRAME_RATE, SynthesisRequest
from inference.prompting.dialogue import plan_dialogue
from inference.prompting.longform import split_text
from inference.prompting.prompt import ConversationBuilder, Part, SingleVoice, caption_of
from inference.prompting.script import parse_script
from inference.prompting.text import normalize_text


@dataclass
class Plan:
    """A request checked and split into parts (long-text chunks or dialogue turns), each generated on its
    own; `conversation` builds a part's prompt from the parts already spoken."""

    parts: list[Part]
    conversation: ConversationBuilder
    warnings: list[str]
    reference_s: float


def plan_request(request: SynthesisRequest, is_noise: bool) -> Plan:
    """Normalize and split the text, prepare the reference(s): everything each part's prompt needs."""
    _check_part_count(request)
    if request.is_dialogue:
        started = time.perf_counter()
        parts, dialogue, warnings = plan_dialogue(request)
        warnings += [NOISE_WARNING] if is_noise else []
        return Plan(parts, dialogue, warnings, time.perf_counter() - started)
    text = normalize_text(request.text)
    if not any(ch.isalnum() for ch in text):
        raise InvalidRequest("There is no text to speak: type at least one word.")
    warnings, reference, reference_s = [], None, 0.0
    if request.reference_audio is not None:
        started = time.perf_counter()
        prepared = prepare_reference(request.reference_audio)
        reference, reference_s = prepared.waveform, time.perf_counter() - started
        warnings += prepared.warnings
        if not request.reference_text:
            warnings.append("No transcript was given for the reference voice; the clone is closer with one.")
    elif request.reference_text:
        warnings.append("A reference transcript was given without reference audio; it was ignored.")
    if is_noise:
        warnings.append(NOISE_WARNING)
    reference_text = normalize_text(request.reference_text) if request.reference_text else None
    parts = [Part(chunk, caption_of(chunk)) for chunk in split_text(text, by_sentence=request.parts == "sentence")]
    return Plan(parts, SingleVoice(request.scene, reference_text, reference), warnings, reference_s)


def _count_parts(request: SynthesisRequest) -> tuple[int, int]:
    """(parts, turns) as plan_request splits the request: long-text chunks, or dialogue turns cut like long texts.
    Reads the text only."""
    by_sentence = request.parts == "sentence"
    if request.is_dialogue:
        turns = parse_script(request.text).turns
        return sum(len(split_text(normalize_text(turn.text), by_sentence=by_sentence)) for turn in turns), len(turns)
    return len(split_text(normalize_text(request.text), by_sentence=by_sentence)), 0


def _check_part_count(request: SynthesisRequest) -> None:
    """Every take is described by its recipe, which holds at most MAX_PARTS parts: refuse a longer one before
    generating anything, in words that say how to fit."""
    parts, turns = _count_parts(request)
    if parts <= MAX_PARTS:
        return
    cut = "dialogue turns" if turns else ("sentences" if request.parts == "sentence" else "parts")
    hint = ("choose parts by length (parts='length') or " if request.parts == "sentence" else "") + \
        "split it into two takes"
    raise InvalidRequest(f"This take would be made of {parts} {cut}; a take has at most {MAX_PARTS} parts: {hint}.")


def longest_take_s(request: SynthesisRequest) -> float:
    """The most audio a request can give, in seconds, known before generating: every part (long-text chunk
    or dialogue turn piece, split as plan_request splits them) at most max_new_tokens frames, plus the
    pauses between dialogue turns. Reads the text only, no reference clip."""
    parts, turns = _count_parts(request)
    return parts * request.sampling.max_new_tokens / FRAME_RATE + request.pause_s * max(turns - 1, 0)
