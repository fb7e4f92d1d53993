"""The engine: owns the model, turns a SynthesisRequest into audio. No Gradio, no HTTP in here."""

from __future__ import annotations

import contextlib
import copy
import logging
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .errors import InvalidRequest, StudioError
from .loading import DEFAULT_MODEL_ID, load_model, pick_device, pick_dtype, resolve_checkpoint
from .longform import CONTEXT_CHUNKS, split_text
from .prompt import build_conversation
from .reference import prepare_reference
from .schema import SAMPLE_RATE, SynthesisRequest, SynthesisResult, Timings
from .text import normalize_text
from .tiny_model import NOISE_WARNING, TINY_MODEL_ID
from .watermark import Watermarker, watermarked

log = logging.getLogger(__name__)

WARMUP_TEXT = "Warming up."


@dataclass
class Plan:
    """A request checked and split into the pieces that each chunk's prompt is built from."""

    chunks: list[str]  # normalized text, spoken in order
    scene: str | None
    reference: np.ndarray | None
    reference_text: str | None
    warnings: list[str]
    reference_s: float


@dataclass
class PreparedPrompt:
    """One chunk's conversation turned into model inputs (done outside the generation lock)."""

    rendered: str
    inputs: dict
    warnings: list[str]
    encode_s: float
    audio_frames: int


@dataclass
class StreamChunk:
    """Audio produced while generating. The last chunk also carries the whole result."""

    waveform: np.ndarray
    sample_rate: int = SAMPLE_RATE
    result: SynthesisResult | None = None


class _Cancelled:
    """A stopping criterion: lets a consumer that went away stop the generation early."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


class Engine:
    """Loaded once, shared by every front door. `synthesize` and `stream` are thread-safe."""

    def __init__(self, model_id: str = DEFAULT_MODEL_ID, device: str = "auto", dtype: str = "auto",
                 watermark: bool | None = None) -> None:
        self.model_id = model_id
        self.watermarker = Watermarker(watermark)  # None: HVS_WATERMARK decides (on unless the operator says 0)
        self.device = pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.processor = None
        self.model = None
        self.load_s = 0.0
        self.warmed = False
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()  # one generation at a time on this model
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
                checkpoint = resolve_checkpoint(self.model_id)
                self.processor, self.model = load_model(checkpoint, self.device, self.dtype)
                self.load_s = time.perf_counter() - started
                log.info("loaded %s on %s (%s) in %.1f s", self.model_id, self.device, self.dtype, self.load_s)
        return self

    def warm_up(self) -> None:
        """One short take so the first visitor does not pay for lazy initialisation."""
        self.synthesize(SynthesisRequest.parse(text=WARMUP_TEXT, max_new_tokens=16, seed=0))
        self.warmed = True

    def status(self) -> dict:
        return {
            "model": self.model_id,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "loaded": self.loaded,
            "warmed": self.warmed,
            "busy": self._generate_lock.locked(),
            "pending": self._pending,
            "noise": self.is_noise,
            "watermark": self.watermarker.enabled,
        }

    # ---- prompt ------------------------------------------------------------------------------
    def plan(self, request: SynthesisRequest) -> Plan:
        """Normalize and split the text, prepare the reference: everything each chunk's prompt needs."""
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
        if self.is_noise:
            warnings.append(NOISE_WARNING)
        reference_text = normalize_text(request.reference_text) if request.reference_text else None
        return Plan(split_text(text), request.scene, reference, reference_text, warnings, reference_s)

    def render_prompt(self, request: SynthesisRequest) -> PreparedPrompt:
        """The model inputs for the first (often only) chunk of a request."""
        plan = self.plan(request)
        return self._prompt(plan, 0, [])

    def _prompt(self, plan: Plan, index: int, context: list[tuple[str, np.ndarray]]) -> PreparedPrompt:
        self.load()
        conversation = build_conversation(plan.chunks[index], plan.scene, plan.reference_text, plan.reference,
                                          context)
        rendered = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        audio = ([plan.reference] if plan.reference is not None else []) + [wave for _, wave in context]
        started = time.perf_counter()
        inputs = self.processor(text=rendered, audio=audio or None, return_tensors="pt", sampling_rate=SAMPLE_RATE)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        frames = int(inputs["audio_input_ids"].shape[1]) if "audio_input_ids" in inputs else 0
        return PreparedPrompt(rendered, inputs, plan.warnings, time.perf_counter() - started, frames)

    # ---- generation --------------------------------------------------------------------------
    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """One whole take. The same request with the same seed gives the identical waveform."""
        for chunk in self._run(request, streaming=False):
            if chunk.result is not None:
                return chunk.result
        raise StudioError("The generation ended without a result.")  # unreachable by construction

    def stream(self, request: SynthesisRequest, first_chunk_frames: int = 12, chunk_frames: int = 25
               ) -> Iterator[StreamChunk]:
        """Audio chunks while generating (first after ~0.5 s of audio, then every ~1 s of audio).

        The chunks add up to the take; the last one also carries the full SynthesisResult.
        Stopping the iteration early stops the generation.
        """
        yield from self._run(request, streaming=True, first_chunk_frames=first_chunk_frames, chunk_frames=chunk_frames)

    @watermarked  # every chunk and result leaves the engine marked (inference/watermark.py)
    def _run(self, request: SynthesisRequest, streaming: bool, first_chunk_frames: int = 12,
             chunk_frames: int = 25) -> Iterator[StreamChunk]:
        """Long texts are spoken chunk by chunk (see longform.py); the last chunks spoken so far stay
        in the prompt as context so the voice carries over. Each chunk holds the model on its own, so
        visitors take turns between chunks."""
        self.load()
        plan = self.plan(request)
        seed = request.seed if request.seed is not None else secrets.randbelow(2**32)
        config = self._generation_config(request)
        timings = Timings(load_s=self.load_s, reference_s=plan.reference_s)
        pieces: list[np.ndarray] = []
        context: list[tuple[str, np.ndarray]] = []
        first_prompt = ""
        with self._count_pending():
            for index, text in enumerate(plan.chunks):
                prompt = self._prompt(plan, index, context)
                first_prompt = first_prompt or prompt.rendered
                timings.reference_s += prompt.encode_s
                # each chunk has its own seed so that other visitors' turns cannot change this take
                codes, emitted, generate_s = yield from self._generate(
                    prompt, config, (seed + index) % 2**32, streaming, first_chunk_frames, chunk_frames)
                started = time.perf_counter()
                frames = self._codes_to_frames(codes[0])
                if frames.shape[0] == 0:
                    raise StudioError(
                        "The model produced no audio for this text. Try another seed or a higher temperature.")
                with self._generate_lock:  # heavy tensor work runs one at a time: parallel ops only fight for cores
                    waveform = np.clip(self._decode_frames(frames), -1.0, 1.0)
                timings.generate_s += generate_s
                timings.decode_s += time.perf_counter() - started
                pieces.append(waveform)
                context = (context + [(text, waveform)])[-CONTEXT_CHUNKS:]
                if streaming and index < len(plan.chunks) - 1:
                    yield StreamChunk(waveform[emitted * self._hop:])
        whole = np.concatenate(pieces)
        timings.audio_s = len(whole) / SAMPLE_RATE
        result = SynthesisResult(SAMPLE_RATE, whole, seed, timings, plan.warnings, self.model_id, first_prompt,
                                 chunks=len(plan.chunks))
        # Streaming: the tail not sent yet, cut from the whole decode so the chunks add up to the take.
        tail = pieces[-1][emitted * self._hop:] if streaming else whole
        yield StreamChunk(waveform=tail, result=result)

    def _generate(self, prompt: PreparedPrompt, config, seed: int, streaming: bool, first_chunk_frames: int,
                  chunk_frames: int):
        """Run model.generate (on a worker thread when streaming, yielding chunks as frames arrive).
        Returns (codes, frames already streamed, seconds spent generating)."""
        frames: queue.Queue = queue.Queue()
        cancelled = _Cancelled()
        outcome: dict = {}

        def generate() -> None:
            try:
                with self._generate_lock, torch.inference_mode():
                    # The frame tap sees every forward pass of the shared model, so it is attached only
                    # while this take holds the lock: another visitor's frames never reach this stream.
                    hook = self.model.register_forward_pre_hook(_frame_tap(frames), with_kwargs=True) \
                        if streaming else None
                    try:
                        torch.manual_seed(seed)
                        started = time.perf_counter()
                        outcome["codes"] = self.model.generate(
                            **prompt.inputs, generation_config=config, stopping_criteria=[cancelled]
                        )
                        outcome["generate_s"] = time.perf_counter() - started
                    finally:
                        if hook is not None:
                            hook.remove()
            except Exception as err:  # re-raised in the caller's thread
                outcome["error"] = err
            finally:
                frames.put(None)

        emitted = 0
        if not streaming:
            generate()
        else:
            worker = threading.Thread(target=generate, name="higgs-generate", daemon=True)
            worker.start()
            try:
                for chunk, emitted in self._stream_chunks(frames, first_chunk_frames, chunk_frames):  # noqa: B007
                    yield chunk
            finally:
                cancelled.event.set()
                worker.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["codes"], emitted, outcome["generate_s"]

    def _generation_config(self, request: SynthesisRequest):
        options = request.sampling
        config = copy.deepcopy(self.model.generation_config)
        greedy = options.temperature == 0
        config.do_sample = not greedy
        config.temperature = None if greedy else options.temperature
        config.top_p = None if greedy else options.top_p
        config.top_k = None if greedy or options.top_k == 0 else options.top_k
        config.max_new_tokens = options.max_new_tokens
        # Read by Higgs' sampling loop from the generation config (repetition-aware sampling).
        config.ras_win_len = options.ras_win_len or None
        config.ras_win_max_num_repeat = options.ras_max_repeats
        return config

    # ---- decoding ----------------------------------------------------------------------------
    def _codes_to_frames(self, generated: torch.Tensor) -> torch.Tensor:
        """Generated delay-patterned rows (T x K) -> aligned frames (F x K), like the processor's decode."""
        num_codebooks = generated.shape[-1]
        bos, eos = self.processor.audio_stream_bos_id, self.processor.audio_stream_eos_id
        starts = (generated == bos).all(-1).nonzero()
        if len(starts):
            generated = generated[int(starts[-1, 0]) + 1:]
        ends = (generated == eos).all(-1).nonzero()
        if len(ends):
            generated = generated[: int(ends[0, 0])]
        if generated.shape[0] < num_codebooks:
            return generated.new_zeros((0, num_codebooks))
        return self.processor.revert_delay_pattern(generated).clip(0, bos - 1)

    def _decode_frames(self, frames: torch.Tensor) -> np.ndarray:
        if frames.shape[0] == 0:
            return np.zeros(0, np.float32)
        with torch.inference_mode():
            audio = self.processor.audio_tokenizer.decode(frames.T.unsqueeze(0)).audio_values
        return audio.reshape(-1).float().cpu().numpy()

    @property
    def _hop(self) -> int:
        return self.processor.audio_tokenizer.config.hop_length

    def _stream_chunks(self, frames: queue.Queue, first_chunk_frames: int, chunk_frames: int
                       ) -> Iterator[tuple[StreamChunk, int]]:
        """While generating, decode growing windows of aligned frames. Each window re-decodes a little
        left context and holds back the last few frames (decoded, but used only as right context), so
        the chunks match the whole-take decode: measured on the tokenizer's decoder, 4 frames of
        context and 3 of hold-back give the same samples as decoding the take at once.
        Yields (chunk, frames emitted so far)."""
        context, holdback = 8, 3
        rows: list[torch.Tensor] = []
        emitted, target = 0, first_chunk_frames
        while (row := frames.get()) is not None:
            rows.append(row)
            if len(rows) < emitted + target + holdback + len(row):  # len(row) = codebooks (delay)
                continue
            aligned = self._codes_to_frames(torch.stack(rows))
            ready = aligned.shape[0] - holdback
            if ready - emitted < target:
                continue
            start = max(emitted - context, 0)
            audio = self._decode_frames(aligned[start:])  # the held-back frames serve as right context
            chunk = StreamChunk(np.clip(audio[(emitted - start) * self._hop:(ready - start) * self._hop], -1.0, 1.0))
            emitted, target = ready, chunk_frames
            yield chunk, emitted

    @contextlib.contextmanager
    def _count_pending(self) -> Iterator[None]:
        with self._pending_lock:
            self._pending += 1
        try:
            yield
        finally:
            with self._pending_lock:
                self._pending -= 1


def _frame_tap(frames: queue.Queue):
    """Forward pre-hook: in decode steps the model receives the frame sampled at the previous step."""

    def hook(module, args, kwargs):
        audio = kwargs.get("audio_input_ids")
        if audio is not None and audio.shape[1] == 1 and kwargs.get("input_ids") is None:
            frames.put(audio[0, 0].detach().to("cpu", copy=True))

    return hook
