"""The engine: owns the model, turns a SynthesisRequest into audio. No Gradio, no HTTP in here."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from inference import recipes
from inference.audio.seams import silence, splice
from inference.audio.watermark import Watermarker, watermarked
from inference.contract.engine import NOISE_WARNING, TINY_MODEL_ID
from inference.contract.errors import Cancelled, StudioError
from inference.contract.recipe import Recipe, Variant
from inference.contract.request import SAMPLE_RATE, SynthesisRequest
from inference.contract.result import Segment, StreamChunk, SynthesisResult, Timings
from inference.generation.audio_tokens import AudioTokens
from inference.generation.batcher import Batcher
from inference.generation.decoding import Job
from inference.generation.parts import failed_part, relay, until_done
from inference.model.adapters import Adapters
from inference.model.batching import batch_size, batch_window, threads_per_op
from inference.model.loading import (
    DEFAULT_MODEL_ID,
    check_quantize,
    load_model,
    pick_device,
    pick_dtype,
    resolve_checkpoint,
)
from inference.prompting.dialogue import part_adapters
from inference.prompting.inputs import model_inputs
from inference.prompting.plan import Plan, plan_request

log = logging.getLogger(__name__)

WARMUP_TEXT = "Warming up."
CANCEL_WAIT_S = 10.0  # a cancelled row leaves the batch at the next step; this bounds the wait for it


@dataclass
class PreparedPrompt:
    """One chunk's conversation turned into model inputs (done outside the generation lock)."""

    rendered: str
    inputs: dict
    warnings: list[str]
    encode_s: float
    audio_frames: int


class Engine:
    """Loaded once, shared by every front door. `synthesize` and `stream` are thread-safe."""

    def __init__(self, model_id: str = DEFAULT_MODEL_ID, device: str = "auto", dtype: str = "auto",
                 max_batch: int | str | None = None, batch_window_ms: float = 20.0, compile: bool | str = False,
                 quantize: str | None = None, watermark: bool = True, cpu_threads: int | str | None = None,
                 trained_dir: Path | str | None = None, max_adapters: int = 8) -> None:
        self.model_id = model_id
        self.adapters = Adapters(trained_dir, max_adapters)  # trained voices, loaded on first use
        self.watermarker = Watermarker(watermark)  # only the operator turns it off (--no-watermark)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.max_batch = batch_size(max_batch, self.device)
        self.cpu_threads = threads_per_op(cpu_threads, self.device)
        self.batch_window_s = batch_window(batch_window_ms)
        self.compile = compile
        self.quantize = check_quantize(quantize, self.device)
        self.processor = None
        self.model = None
        self.batcher: Batcher | None = None
        self.tokens: AudioTokens | None = None
        self.load_s = 0.0
        self.warmed = False
        self._load_lock = threading.Lock()
        self._pending = 0
        self._pending_lock = threading.Lock()

    # ---- lifecycle -------------------------------------------------------------------------
    @property
    def is_noise(self) -> bool:
        return self.model_id == TINY_MODEL_ID

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def load(self) -> Engine:
        with self._load_lock:
            if self.model is None:
                if self.is_noise:
                    log.warning(NOISE_WARNING)
                started = time.perf_counter()
                if self.cpu_threads:
                    torch.set_num_threads(self.cpu_threads)  # process-wide: every thread that computes
                checkpoint = resolve_checkpoint(self.model_id)
                self.processor, self.model = load_model(checkpoint, self.device, self.dtype, self.quantize)
                # One thread per op: a decode beside a step gets the very bits it gets alone (see Batcher).
                self.batcher = Batcher(self.model, self.max_batch, self.batch_window_s, compile=self.compile,
                                       exclusive_turns=self.cpu_threads != 1)
                self.tokens = AudioTokens(self.processor, self.batcher, self.device)
                self.load_s = time.perf_counter() - started
                log.info("loaded %s on %s (%s) in %.1f s", self.model_id, self.device, self.dtype, self.load_s)
        return self

    def warm_up(self) -> None:
        """One short take so the first visitor does not pay for lazy initialisation. With `compile`, also
        two takes at once: the decode step is compiled for one row and for a batch (dynamic sizes)."""
        warm = SynthesisRequest.parse(text=WARMUP_TEXT, max_new_tokens=16, seed=0)
        if self.compile:
            try:
                self._warm_compiled(warm)
            except Exception as err:  # a compiler or toolchain problem must not keep the studio down
                log.error("compiling the decode step failed (%s); decoding without compiling",
                          str(err).splitlines()[0][:300] if str(err) else type(err).__name__)
                self.batcher.stop_compiling()
                self.compile = False
        self.synthesize(warm)
        self.warmed = True

    def _warm_compiled(self, warm: SynthesisRequest) -> None:
        """Compile the decode step before any visitor: for one row, and for a batch (dynamic sizes)."""
        started = time.perf_counter()
        self.synthesize(warm)
        if self.max_batch > 1:  # two at once: the batched graph (a failure is raised here by the pool)
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                list(pool.map(self.synthesize, [warm, warm]))
        log.info("decode step compiled in %.1f s", time.perf_counter() - started)

    def status(self) -> dict:
        return {
            "model": self.model_id,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "loaded": self.loaded,
            "warmed": self.warmed,
            "busy": bool(self.batcher and (self.batcher.generating or self.batcher.waiting)),
            "generating": self.batcher.generating if self.batcher else 0,
            "max_batch": self.max_batch,
            "peak_batch": self.batcher.peak if self.batcher else 0,
            "compiled": self.compile,
            "batch_invariant": bool(self.batcher and self.batcher.batch_invariant),
            "cpu_threads": self.cpu_threads,
            "quantize": self.quantize,
            "pending": self._pending,
            "noise": self.is_noise,
            "watermark": self.watermarker.enabled,
            "adapters": self.adapters.loaded,
        }

    # ---- prompt ------------------------------------------------------------------------------
    def plan(self, request: SynthesisRequest) -> Plan:
        """Normalize and split the text, prepare the reference(s): everything each part's prompt needs."""
        return plan_request(request, self.is_noise)

    def render_prompt(self, request: SynthesisRequest) -> PreparedPrompt:
        """The model inputs for the first (often only) chunk of a request."""
        plan = self.plan(request)
        return self._prompt(plan, 0, [])

    def _prompt(self, plan: Plan, index: int, spoken: list[tuple[int, torch.Tensor]]) -> PreparedPrompt:
        """Part `index`'s inputs; `spoken` holds the parts spoken so far as their frames (see inputs.py)."""
        self.load()
        conversation, audio = plan.conversation(plan.parts, index, spoken)
        rendered = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        started = time.perf_counter()
        inputs = model_inputs(self.processor, rendered, audio, SAMPLE_RATE, self.device)
        frames = int(inputs["audio_input_ids"].shape[1]) if "audio_input_ids" in inputs else 0
        return PreparedPrompt(rendered, inputs, plan.warnings, time.perf_counter() - started, frames)

    # ---- generation --------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest, cancel: threading.Event | None = None) -> SynthesisResult:
        """One whole take. The same request with the same seed gives the identical waveform, whether it
        ran alone or batched with other visitors' takes. Setting `cancel` stops it (raises Cancelled)."""
        for chunk in self._run(request, streaming=False, cancel=cancel):
            if chunk.result is not None:
                return chunk.result
        raise StudioError("The generation ended without a result.")  # unreachable by construction

    def stream(self, request: SynthesisRequest, first_chunk_frames: int = 12, chunk_frames: int = 25,
               cancel: threading.Event | None = None) -> Iterator[StreamChunk]:
        """Audio chunks while generating (first after ~0.5 s of audio, then every ~1 s of audio).

        The chunks add up to the take; the last one also carries the full SynthesisResult.
        Stopping the iteration early (or setting `cancel`) stops the generation.
        """
        yield from self._run(request, streaming=True, first_chunk_frames=first_chunk_frames,
                             chunk_frames=chunk_frames, cancel=cancel)

    @watermarked  # every chunk and result leaves the engine marked (inference/audio/watermark.py)
    def _run(self, request: SynthesisRequest, streaming: bool, first_chunk_frames: int = 12,
             chunk_frames: int = 25, cancel: threading.Event | None = None) -> Iterator[StreamChunk]:
        """The take part by part: long-text chunks (see longform.py) or dialogue turns (see dialogue.py),
        each prompt holding the last parts spoken as context so voices carry over. Each part is a job of
        its own for the batcher, so long texts and dialogues join batches part by part. Parts are joined
        with fades (and the pause between turns); when a part fails, the parts before it are returned
        with a warning (a stop by the caller is not a failure: it ends the take)."""
        cancel = cancel or threading.Event()
        self.load()
        plan = self.plan(request)
        adapters = {name: self.adapters.get(name, self.model, self.model_id) for name in request.trained_voices}
        part_adapter = [adapters.get(name) for name in part_adapters(request, plan.parts)]
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        timings = Timings(load_s=self.load_s, reference_s=plan.reference_s)
        pieces: list[np.ndarray] = []  # the take: pauses and faded parts
        segments: list[Segment] = []
        spoken: list[tuple[int, torch.Tensor]] = []  # the parts spoken so far: their frames, for context
        first_prompt, count, tail = "", len(plan.parts), np.zeros(0, np.float32)
        with self._count_pending():
            for index, part in enumerate(plan.parts):
                pause = silence(part.pause_before_s) if pieces else silence(0)
                try:
                    prompt = self._prompt(plan, index, spoken)
                    first_prompt = first_prompt or prompt.rendered
                    timings.reference_s += prompt.encode_s
                    # each part has its own seed so that other visitors' turns cannot change this take
                    job = Job(prompt.inputs, request.sampling, (seed + index) % 2**32, cancel,
                              adapter=part_adapter[index])
                    generation = self._generate(job, streaming, first_chunk_frames, chunk_frames)
                    (codes, emitted, generate_s), paused = yield from relay(generation, index + 1, count, pause)
                    started = time.perf_counter()
                    frames = self.tokens.codes_to_frames(codes)
                    if frames.shape[0] == 0:
                        raise StudioError(
                            "The model produced no audio for this text. Try another seed or a higher temperature.")
                    waveform = np.clip(self.tokens.decode(frames), -1.0, 1.0)
                except Exception as err:
                    if not pieces or isinstance(err, Cancelled):  # nothing to keep, or the caller stopped
                        raise
                    plan.warnings.append(failed_part(index, count, part, err))
                    log.warning("part %d of %d failed, returning the parts before it", index + 1, count, exc_info=err)
                    break
                timings.generate_s += generate_s
                timings.decode_s += time.perf_counter() - started
                start, shaped = splice(pieces, pause, waveform)
                segments.append(Segment(start / SAMPLE_RATE, (start + len(shaped)) / SAMPLE_RATE, part.caption,
                                        part.speaker))
                spoken.append((index, frames))
                # Streaming: what was not sent yet (the pause, when no audio went out during generation).
                tail = np.concatenate([pause[len(pause) if paused else 0:], shaped[emitted * self.tokens.hop:]])
                if streaming and index < count - 1:
                    yield StreamChunk(tail, part=index + 1, parts=count)
                    tail = np.zeros(0, np.float32)
        whole = np.concatenate(pieces)
        timings.audio_s = len(whole) / SAMPLE_RATE
        result = SynthesisResult(SAMPLE_RATE, whole, seed, timings, plan.warnings, self.model_id, first_prompt,
                                 chunks=count, segments=segments,
                                 recipe=recipes.take_recipe(self.model_id, request, plan, seed, spoken))
        # Streaming: the chunks add up to the take (unless a part failed after sending some audio).
        yield StreamChunk(waveform=tail if streaming else whole, result=result, part=len(segments), parts=count)

    def _generate(self, job: Job, streaming: bool, first_chunk_frames: int, chunk_frames: int):
        """Hand one chunk to the batcher and wait for it (yielding audio chunks as frames arrive when
        streaming). Returns (codes, frames already streamed, seconds spent generating)."""
        frames: queue.Queue = queue.Queue()
        if streaming:
            job.on_frame = frames.put
        started = time.perf_counter()
        future = self.batcher.submit(job)
        future.add_done_callback(lambda _: frames.put(None))
        emitted = 0
        try:
            if streaming:
                rows = until_done(frames, job.cancel)
                for chunk, emitted in self.tokens.stream_chunks(rows, first_chunk_frames, chunk_frames):  # noqa: B007
                    yield chunk
            while not future.done() and not job.cancel.is_set():
                concurrent.futures.wait([future], timeout=0.1)
        finally:
            if not future.done():  # the caller went away or cancelled: free the row before returning
                job.cancel.set()
                # still waiting for a place in the batch: it never starts (and a cancelled future counts as
                # done for wait() only once the batcher drops it: do not wait for that)
                if not future.cancel():
                    concurrent.futures.wait([future], timeout=CANCEL_WAIT_S)  # generating: leaves at the next step
        if future.cancelled() or job.cancel.is_set():
            raise Cancelled("The take was stopped.")
        return future.result(), emitted, time.perf_counter() - started

    # ---- recipes: a take rendered again from its codes, one part generated anew (see recipes.py) ----
    def render(self, recipe: Recipe) -> SynthesisResult:
        return recipes.render(self, recipe)

    def revise_part(self, request: SynthesisRequest, recipe: Recipe, index: int, text: str | None, seed: int,
                    cancel: threading.Event | None = None) -> Variant:
        return recipes.generate_part(self, request, recipe, index, text, seed, cancel)

    @contextlib.contextmanager
    def _count_pending(self) -> Iterator[None]:
        with self._pending_lock:
            self._pending += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._pending -= 1
