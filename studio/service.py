"""What the studio does, separate from how it looks: one object holding the injected engine and helpers.

Every per-visitor value (history, voice library, choices) arrives as a callback argument; nothing
about a visitor is kept on this object or in module globals.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from inference.audio.codec import encode
from inference.contract.engine import EngineLike
from inference.contract.errors import Cancelled, InvalidRequest, StudioError
from inference.contract.recipe import load_recipe
from inference.contract.request import FRAME_RATE, SynthesisRequest
from inference.contract.result import StreamChunk
from studio.best_of import Takes, make_takes, score_take
from studio.dialogue import DialogueTake, TurnProgress, save_dialogue
from studio.lengths import default_length
from studio.outcomes import Finished, PartTake, Stopped
from studio.revise import Edit, EditedTake, preset_names, render_take, revise_take, save_take
from studio.scene import ScenePresets, compose_scene
from studio.take_request import TakeRequest, engine_request
from studio.takes import HISTORY_SIZE, Take, TakeStore, add_take
from studio.voice_library import VoiceLibrary
from studio.voices import Voice, VoiceResolver, VoiceSpec

log = logging.getLogger(__name__)


class TranscriberLike(Protocol):
    model_id: str
    enabled: bool

    def transcribe(self, audio: Path | str | bytes) -> str: ...


@dataclass
class Studio:
    engine: EngineLike
    voices: VoiceLibrary = field(default_factory=VoiceLibrary)
    presets: ScenePresets = field(default_factory=ScenePresets.load)
    transcriber: TranscriberLike | None = None
    checker: Any = None  # inference.take_check.TakeChecker: scores takes (words, voice); None = no take check
    takes: TakeStore = field(default_factory=TakeStore)
    history_size: int = HISTORY_SIZE
    # Stop buttons: one cancel event per page session with a take under way (removed when it ends).
    _running: dict[str, threading.Event] = field(default_factory=dict, repr=False)
    draining: threading.Event = field(default_factory=threading.Event)  # set on SIGTERM (studio/drain.py)
    zerogpu: bool = False  # on ZeroGPU hardware (SPACES_ZERO_GPU): takes run in another process
    resolver: VoiceResolver | None = None  # the one voice rule; built from `voices` and `presets` when not given

    def __post_init__(self) -> None:
        if self.resolver is None:
            self.resolver = VoiceResolver(self.voices, self.presets)
        else:  # the page lists what the resolver knows
            self.voices, self.presets = self.resolver.library, self.resolver.presets

    # ---- requests ----------------------------------------------------------------------------
    def voice(self, spec: VoiceSpec | str | None) -> Voice:
        """The voice a door was given, by the one rule (studio/voices.py). Raises InvalidRequest."""
        return self.resolver.resolve(spec)

    def scene(self, voice: Voice, tone: str | None, setting: str | None, extra: str | None) -> str | None:
        return compose_scene(self.presets, tone=tone, setting=setting, voice_description=voice.description,
                             extra=extra)

    def prepare(self, take: TakeRequest) -> SynthesisRequest:
        """The engine's request for what a door asked (studio/take_request.py). Raises InvalidRequest in words."""
        return engine_request(take, self.resolver)

    def sized(self, request: SynthesisRequest) -> SynthesisRequest:
        """The request with the studio's length rule applied (studio/lengths.py): on the noise model, a take
        whose caller gave no max_new_tokens is kept short. Every take path below applies it."""
        return default_length(request, self.is_noise)

    def transcribe(self, clip: str | Path | None) -> str:
        """Raises InvalidRequest (no clip, bad clip) or StudioError (no ASR model)."""
        if not clip:
            raise InvalidRequest("Record or upload a clip first, then transcribe it.")
        if self.transcriber is None or not self.transcriber.enabled:
            raise StudioError("Transcription is turned off on this server; type the transcript.")
        return self.transcriber.transcribe(Path(clip))

    # ---- takes under way -----------------------------------------------------------------------
    def begin_take(self, key: str) -> threading.Event:
        """A new take for page session `key`: the event its Stop button sets."""
        self._running[key] = event = threading.Event()
        return event

    def cancel_event(self, key: str) -> threading.Event | None:
        return self._running.get(key)

    def stop_take(self, key: str) -> bool:
        event = self._running.get(key)
        if event is not None:
            event.set()
        return event is not None

    def end_take(self, key: str) -> None:
        self._running.pop(key, None)

    # ---- generation --------------------------------------------------------------------------
    def generate(self, request: SynthesisRequest, voice_label: str, history: list[dict] | None,
                 on_progress=None, cancel: threading.Event | None = None, check: bool = False
                 ) -> Iterator[bytes | Finished]:
        """One take, streamed: yields each new piece of audio as WAV bytes while generating, then the
        Finished take (saved, added to the visitor's history). Progress is real: seconds produced so far,
        passed to `on_progress(fraction, words)`. Setting `cancel` stops the take (raises Stopped) and frees
        the model at once. With `check` the take is scored; best of N (request.candidates > 1) makes the
        takes whole, all at once (the batcher generates them together), and streams nothing."""
        self.admit()
        request = self.sized(request)
        if request.candidates > 1:
            def announce(done: int, count: int) -> None:
                if on_progress is not None:
                    on_progress(done / count, f"{done} of {count} takes made")

            try:
                takes = make_takes(self.engine, request, self.checker, on_candidate=announce, cancel=cancel)
            except Cancelled:
                raise Stopped("Stopped. The model is free for the next take.") from None
            yield self._finish(request, takes, voice_label, history)
            return
        result = None
        budget_s = request.sampling.max_new_tokens / FRAME_RATE
        produced_s, pieces = 0.0, []  # the audio so far: kept as a part-take if the visitor stops
        if cancel is not None and cancel.is_set():
            raise Stopped("Stopped before the take began.")
        try:
            with contextlib.closing(self.stream(request, cancel)) as chunks:
                for chunk in chunks:
                    produced_s += len(chunk.waveform) / chunk.sample_rate
                    if on_progress is not None:
                        part = f", part {chunk.part} of {chunk.parts}" if getattr(chunk, "parts", 1) > 1 else ""
                        on_progress(min(produced_s / budget_s, 0.99),
                                    f"{produced_s:.1f} s of audio so far (at most {budget_s:.0f} s{part})")
                    if len(chunk.waveform):
                        pieces.append(chunk)
                        yield wav_bytes(chunk.waveform, chunk.sample_rate)
                    if chunk.result is not None:
                        result = chunk.result
        except Cancelled:  # the engine's word for a take whose cancel event was set
            part = self._keep_part(request, pieces, voice_label, history)
            kept = " The part made so far is kept as the take." if part else ""
            raise Stopped(f"Stopped at {produced_s:.1f} s of audio.{kept} The model is free for the next take.",
                          part) from None
        if result is None:  # the engine contract says the last chunk carries it
            raise StudioError("The generation ended without a result.")
        scores = [None]
        if check and self.checker is not None and self.checker.enabled:
            if on_progress is not None:
                on_progress(0.99, "checking the take")
            scores = [score_take(self.checker, request, result)]
        yield self._finish(request, Takes(result, scores), voice_label, history)

    def _finish(self, request: SynthesisRequest, takes: Takes, voice_label: str, history: list[dict] | None
                ) -> Finished:
        result = takes.result
        path = self.takes.save(result.waveform, result.sample_rate)
        take = Take(str(path), request.text, result.seed, voice_label, result.duration_s)
        return Finished(path, result, add_take(history, take, self.history_size), takes)

    def _keep_part(self, request: SynthesisRequest, pieces: list[StreamChunk], voice_label: str,
                   history: list[dict] | None) -> PartTake | None:
        """The audio streamed before Stop, saved as a take labelled "stopped at 12.5 s"; None when there was none."""
        part = self._save_part(pieces, "take")
        if part is None:
            return None
        take = Take(str(part.path), request.text, request.seed, voice_label, part.seconds, stopped_at=part.seconds)
        part.history = add_take(history, take, self.history_size)
        return part

    def _save_part(self, pieces: list[StreamChunk], stem: str) -> PartTake | None:
        if not pieces:
            return None
        rate = pieces[0].sample_rate
        waveform = np.concatenate([piece.waveform for piece in pieces])
        return PartTake(self.takes.save(waveform, rate, stem=stem), round(len(waveform) / rate, 1), [])

    def synthesize_file(self, request: SynthesisRequest, cancel: threading.Event | None = None, check: bool = False
                        ) -> tuple[Path, Takes]:
        """A whole take (or the best of request.candidates) saved as a file, with its scores when checked."""
        self.admit()
        takes = self.make_takes(request, cancel, check=check)
        return self.takes.save(takes.result.waveform, takes.result.sample_rate, stem="api"), takes

    def make_takes(self, request: SynthesisRequest, cancel: threading.Event | None = None, check: bool = False
                   ) -> Takes:
        """A whole take (or the best of request.candidates, made together), scored when checked, for a call
        the door admitted; setting `cancel` stops it (raises Cancelled)."""
        return make_takes(self.engine, self.sized(request), self.checker, check=check, cancel=cancel)

    def stream(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> Iterator[StreamChunk]:
        """One take's audio as the engine makes it (the last chunk carries the result), for a call the door
        admitted (see admit(): a call queued before SIGTERM still runs). Setting `cancel` stops it within a
        generation step (the engine raises Cancelled)."""
        if cancel is not None and cancel.is_set():
            raise Cancelled("stopped before it began")
        # The event stops the engine mid-step. ZeroGPU runs the call in another process that an Event cannot
        # reach, so there the stream is only closed at its next piece (within ~1 s of audio).
        request = self.sized(request)
        pass_cancel = cancel is not None and not self.zerogpu
        stream = self.engine.stream(request, cancel=cancel) if pass_cancel else self.engine.stream(request)
        with contextlib.closing(stream):  # leaving early closes the engine's stream, which ends the generation
            for chunk in stream:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("stopped between pieces")
                yield chunk

    # ---- dialogues ---------------------------------------------------------------------------
    def dialogue(self, request: SynthesisRequest, cancel: threading.Event | None = None, on_progress=None
                 ) -> Iterator[bytes | DialogueTake]:
        """A dialogue streamed turn by turn (WAV bytes), then the DialogueTake saved with its turns and
        subtitles. `on_progress(words)` hears "Turn 2 of 4 · 3.2 s of audio" as the audio comes. Like a
        take, it is refused while the studio drains, and setting `cancel` stops it (raises Stopped)."""
        self.admit()
        progress, result, pieces = TurnProgress(), None, []
        try:
            with contextlib.closing(self.stream(request, cancel)) as chunks:
                for chunk in chunks:
                    words = progress.add(chunk.part, chunk.parts, len(chunk.waveform) / chunk.sample_rate)
                    if on_progress is not None:
                        on_progress(words)
                    if len(chunk.waveform):
                        pieces.append(chunk)
                        yield wav_bytes(chunk.waveform, chunk.sample_rate)
                    result = chunk.result or result
        except Cancelled:
            part = self._save_part(pieces, "dialogue")  # what was heard so far, kept
            kept = f" The {part.seconds:.1f} s made so far are kept." if part else ""
            raise Stopped(f"Stopped in turn {progress.turn} of {progress.turns}.{kept} The model is free for the "
                          "next take.", part) from None
        if result is None:
            raise StudioError("The generation ended without a result.")
        yield save_dialogue(self.takes, result, stem="dialogue")

    def dialogue_file(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> DialogueTake:
        """A whole dialogue, saved with its turns and subtitles; setting `cancel` stops it (raises Cancelled)."""
        self.admit()
        return save_dialogue(self.takes, self.engine.synthesize(self.sized(request), cancel), stem="api-dialogue")

    # ---- recipes: a take rendered again, or edited part by part (studio/revise.py) -------------
    def render(self, recipe: Any) -> EditedTake:
        """The take a recipe (untrusted: JSON text, bytes or object) describes, saved with its subtitles."""
        self.admit()
        return save_take(self.takes, render_take(self.engine, recipe))

    def revise(self, recipe: Any, edit: Edit, clips: list = (), cancel: threading.Event | None = None) -> EditedTake:
        """The take edited (see Edit) and rendered; result.recipe is the new recipe. A part made anew needs the
        take's clips again (`clips`, matched by their sha256). Raises InvalidRequest in words."""
        self.admit()
        return revise_take(self.engine, self.voices, self.takes, recipe, edit, clips, cancel)

    def recipe_presets(self, recipe: Any) -> dict[str | None, str]:
        """A recipe's voices that are presets: None (a single voice) or a speaker's name -> the preset's name."""
        return preset_names(load_recipe(recipe), self.voices)

    # ---- what a door may show of the engine ----------------------------------------------------
    @property
    def model_id(self) -> str:
        return str(self.engine.model_id)

    @property
    def is_noise(self) -> bool:
        """A random-weight test model: its takes are noise and never end on their own."""
        return bool(self.engine.is_noise)

    def status(self) -> dict:
        return self.engine.status()

    def render_prompt(self, request: SynthesisRequest):
        return self.engine.render_prompt(request)

    def admit(self) -> None:
        """Raises StudioError once the studio drains (SIGTERM): no new takes or dialogues."""
        if self.draining.is_set():
            raise StudioError("The studio is shutting down and takes no new takes; try again in a minute.")


def wav_bytes(waveform: np.ndarray, sample_rate: int) -> bytes:
    return encode(waveform, "wav", sample_rate)
