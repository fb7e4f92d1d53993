"""A take's recipe from the engine's side: written at the end of every take, rendered back to the very same
samples from its codes alone, and one part generated anew with the parts before it as context, from their
stored codes (nothing before it is generated again). The schema is inference/contract/recipe.py; the edits
(variants, pauses, deleting and adding parts) are the service's (studio/editing.py)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import numpy as np
import torch

from inference.audio.seams import silence, splice
from inference.audio.watermark import watermarked
from inference.contract.engine import NOISE_WARNING
from inference.contract.errors import InvalidRequest, StudioError
from inference.contract.recipe import Recipe, RecipePart, Variant, VoiceRef, clip_sha256, pack_codes
from inference.contract.request import SAMPLE_RATE, SynthesisRequest
from inference.contract.result import Segment, StreamChunk, SynthesisResult, Timings
from inference.generation.decoding import Job
from inference.prompting.dialogue import part_adapters
from inference.prompting.plan import Plan
from inference.prompting.prompt import Part, caption_of
from inference.prompting.text import normalize_text


def take_recipe(model_id: str, request: SynthesisRequest, plan: Plan, seed: int,
                spoken: list[tuple[int, torch.Tensor]]) -> Recipe:
    """The recipe of a take whose parts `spoken` (index, aligned frames) were made, part i with seed + i."""
    parts = []
    for index, frames in spoken:
        part = plan.parts[index]
        variant = Variant(text=part.text, caption=part.caption, seed=(seed + index) % 2**32,
                          codes=pack_codes(frames.cpu().numpy()))
        parts.append(RecipePart(speaker=part.speaker, voice=part.voice, pause_before_s=part.pause_before_s,
                                variants=[variant]))
    voice = speakers = None
    if request.is_dialogue:
        clips = {s.name.casefold(): s.clip for s in getattr(plan.conversation, "speakers", [])}
        speakers = {name: _voice_ref(v.reference_audio, clips.get(name.strip().casefold()), v.reference_text,
                                     v.description).model_copy(update={"adapter": v.adapter})
                    for name, v in (request.speakers or {}).items()}
    elif request.reference_audio is not None:
        voice = _voice_ref(request.reference_audio, plan.conversation.reference, request.reference_text, None)
    if request.adapter:  # a trained voice (with or without a clip): a part made again needs its adapter
        voice = (voice or VoiceRef()).model_copy(update={"adapter": request.adapter})
    return Recipe(model=model_id, text=request.text, dialogue=request.is_dialogue, voice=voice, speakers=speakers,
                  scene=request.scene, sampling=request.sampling, seed=seed, pause_s=request.pause_s,
                  voice_layout=request.voice_layout, parts=parts).timed()


def _voice_ref(audio, clip: np.ndarray | None, transcript: str | None, description: str | None) -> VoiceRef:
    if audio is None:
        return VoiceRef(description=description)
    seconds = round(len(clip) / SAMPLE_RATE, 3) if clip is not None else None
    return VoiceRef(clip_sha256=clip_sha256(audio), clip_s=seconds, transcript=transcript, description=description)


def render(engine, recipe: Recipe) -> SynthesisResult:
    """The take a recipe describes: each part's chosen codes decoded, spliced with the fades and pauses the
    take was made with, and marked as a take is: the same samples, bit for bit."""
    recipe.check_model(engine.model_id)
    engine.load()
    for chunk in _render(engine, recipe):
        return chunk.result
    raise StudioError("The recipe rendered nothing.")  # unreachable: a recipe has at least one part


@watermarked  # marked exactly as a finished take is: as a whole, on the same grid
def _render(engine, recipe: Recipe) -> Iterator[StreamChunk]:
    started = time.perf_counter()
    pieces: list[np.ndarray] = []
    segments = []
    for part in recipe.parts:
        waveform = np.clip(engine.tokens.decode(torch.from_numpy(part.take.frames)), -1.0, 1.0)
        pause = silence(part.pause_before_s) if pieces else silence(0)
        start, shaped = splice(pieces, pause, waveform)
        segments.append(Segment(start / SAMPLE_RATE, (start + len(shaped)) / SAMPLE_RATE, part.take.caption,
                                part.speaker))
    whole = np.concatenate(pieces)
    timings = Timings(load_s=engine.load_s, decode_s=time.perf_counter() - started, audio_s=len(whole) / SAMPLE_RATE)
    warnings = [NOISE_WARNING] if engine.is_noise else []
    result = SynthesisResult(SAMPLE_RATE, whole, recipe.seed, timings, warnings, engine.model_id,
                             chunks=len(recipe.parts), segments=segments, recipe=recipe.timed())
    yield StreamChunk(whole, result=result, part=len(segments), parts=len(segments))


def _check_voices(recipe: Recipe, plan: Plan) -> None:
    """An untrusted recipe's parts must name the speakers its script has (a single voice's parts name none)."""
    count = len(getattr(plan.conversation, "speakers", []))
    if any((p.voice is None) == recipe.dialogue or (p.voice is not None and p.voice >= count) for p in recipe.parts):
        raise InvalidRequest("This recipe's parts do not match its text: a dialogue's parts name its script's "
                             "speakers, a single voice's parts name none.")


def part_text(text: str, voice: int | None) -> tuple[str, str]:
    """A part's new words -> (what the model reads, the caption), as a take's plan writes them."""
    chunk = normalize_text(text)
    if not any(ch.isalnum() for ch in chunk):
        raise StudioError("There is no text to speak in this part: type at least one word.")
    return (f"[SPEAKER{voice}] {chunk}" if voice is not None else chunk), caption_of(chunk)


def generate_part(engine, request: SynthesisRequest, recipe: Recipe, index: int, text: str | None, seed: int,
                  cancel: threading.Event | None = None) -> Variant:
    """Part `index` generated anew with `seed` (and new words, when `text` is given), its prompt holding the
    parts before it from their stored codes, as the take held them. `request` brings the voices and the scene
    (its text is the take's; its parts are the recipe's). Returns the new variant; nothing else changes."""
    recipe.check_model(engine.model_id)
    engine.load()
    plan = engine.plan(request)
    plan.parts = [Part(p.take.text, p.take.caption, p.speaker, p.voice, p.pause_before_s) for p in recipe.parts]
    _check_voices(recipe, plan)
    if text is not None:
        words, caption = part_text(text, plan.parts[index].voice)
        plan.parts[index] = dataclasses.replace(plan.parts[index], text=words, caption=caption)
    spoken = [(i, torch.from_numpy(recipe.parts[i].take.frames)) for i in range(index)]
    prompt = engine._prompt(plan, index, spoken)
    name = part_adapters(request, plan.parts)[index]
    adapter = engine.adapters.get(name, engine.model, engine.model_id) if name else None
    job = Job(prompt.inputs, request.sampling, seed, cancel or threading.Event(), adapter=adapter)
    generation = engine._generate(job, False, 0, 0)  # not streaming: it yields nothing and returns the codes
    try:
        while True:
            next(generation)
    except StopIteration as done:
        codes = done.value[0]
    frames = engine.tokens.codes_to_frames(codes)
    if frames.shape[0] == 0:
        raise StudioError("The model produced no audio for this part. Try another seed or a higher temperature.")
    part = plan.parts[index]
    return Variant(text=part.text, caption=part.caption, seed=seed, codes=pack_codes(frames.cpu().numpy()))
