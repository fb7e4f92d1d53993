"""The engine's own decode loop for Higgs Audio V2: prefill one request, then step many requests together.

Stock `generate` shares one generation config and the global RNG across a batch, so a batched take would
not equal its solo take and could not keep its own options. Here every row carries its own sampling
options, its own `torch.Generator`, its own delay-pattern and repetition-aware-sampling (RAS) state, and
its own stop; rows join and leave a running batch between steps (continuous batching). The rules are the
ones of transformers' `HiggsAudioV2GenerationMixin._sample` and `HiggsAudioV2DelayPatternLogitsProcessor`
(read in transformers 5.24), applied per row:

- delay pattern: codebook k may leave the stream-BOS only k steps after the first; once any codebook
  ends its stream (stream EOS), the others are made to end one step after another;
- sampling (sampling.py): temperature, top-k, top-p (the rules of transformers' warpers), then one draw with a uniform
  number from the row's own generator;
- RAS: a code already repeated `ras_max_repeats` times in the last `ras_win_len` frames is re-drawn from
  the untempered distribution (an inverse-CDF draw with the row's own random numbers, as for sampling);
- stop: all codebooks at stream EOS, the row's `max_new_tokens`, or its caller cancelling.

Prefill always runs at batch 1, exactly as a solo take would; decode steps run the rows left-padded
together in one KV cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from transformers import DynamicCache

from inference.contract.request import SamplingOptions
from inference.generation.invariant import RowInvariance
from inference.generation.lora import RowAdapters
from inference.generation.sampling import draw, repetition_aware, top_k
from inference.model.adapters import Adapter


@dataclass(eq=False)
class Job:
    """One chunk to generate: the prompt's tensors (batch of 1), how to sample, where frames go."""

    inputs: dict
    options: SamplingOptions
    seed: int
    cancel: threading.Event = field(default_factory=threading.Event)
    on_frame: Callable[[torch.Tensor], None] | None = None  # each sampled (delay-patterned) frame, on CPU
    adapter: Adapter | None = None  # a trained voice's LoRA, applied to this row only (lora.py)


@dataclass(eq=False)
class Row:
    """A job while it generates: its sampling state and the frames it has produced."""

    job: Job
    generator: torch.Generator
    bos_delay: np.ndarray  # per codebook: steps left where only stream-BOS may be drawn
    eos_delay: np.ndarray  # per codebook: steps left before stream-EOS is forced (counts after an end)
    last_text: int  # the text token the model would see for the latest step (audio / delay / eos)
    history: np.ndarray  # the last RAS-window frames (prompt audio, then generated), (W, K)
    length: int  # real (unpadded) tokens in the KV cache
    frames: list[torch.Tensor] = field(default_factory=list)  # on CPU
    logits: torch.Tensor | None = None  # (K, V) float32 for the next draw
    _uniforms: torch.Tensor | None = None  # random numbers drawn ahead from the row's generator
    _used: int = 0

    @property
    def steps(self) -> int:
        return len(self.frames)

    def uniforms(self, count: int) -> torch.Tensor:
        """The next `count` numbers in [0, 1) of this row's own random stream, drawn 64 steps ahead (one
        generator call per 64 steps instead of one per step)."""
        if self._uniforms is None or self._used + count > len(self._uniforms):
            self._uniforms = torch.rand(64 * count, generator=self.generator, device=self.generator.device)
            self._used = 0
        self._used += count
        return self._uniforms[self._used - count:self._used]


class Decoder:
    """Owns the KV cache of the rows generating together. Used by one thread (the batcher)."""

    def __init__(self, model, max_batch: int = 8, compile: bool | str = False) -> None:
        self.model = model
        self.max_batch = max_batch
        # Only the decode step is compiled: its shapes (rows, cache length) vary smoothly, so one dynamic
        # graph serves them all; prefill lengths vary too much and run eagerly. `compile` may name a
        # torch.compile backend (True = inductor). A compiled step batches plainly: the row-by-row
        # attention that keeps a row's numbers independent of its neighbours (invariant.py) is a Python
        # loop that a compiled graph cannot hold.
        backend = compile if isinstance(compile, str) else "inductor"
        self.step = torch.compile(model, dynamic=True, backend=backend) if compile else model
        self.invariance = None if compile else RowInvariance.of(model, fixed_rows=max_batch)
        self.lora = RowAdapters.of(model, fixed_rows=max_batch)
        config = model.config
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        self.stream_bos, self.stream_eos = config.audio_stream_bos_id, config.audio_stream_eos_id
        self.audio_bos, self.audio_token = config.audio_bos_token_id, config.audio_token_id
        self.delay_token, self.eos_token = config.audio_delay_token_id, config.eos_token_id
        self.delay_pattern = np.arange(1, self.num_codebooks + 1)
        self.rows: list[Row] = []
        self.cache: DynamicCache | None = None
        self.mask: torch.Tensor | None = None  # (B, S) 1 for real tokens, 0 for left padding

    def decode_eagerly(self) -> None:
        """From now on, steps run uncompiled and batch-invariant (the compiled step failed to build)."""
        self.step = self.model
        self.invariance = RowInvariance.of(self.model, fixed_rows=self.max_batch)

    # ---- admission -------------------------------------------------------------------------
    def admit(self, job: Job) -> Row:
        """Prefill one job on its own and add it to the running batch."""
        inputs = job.inputs
        cache = DynamicCache(config=self.model.config)
        with self.lora.serving([job.adapter], decoding=False):
            outputs = self.model(**inputs, cache=cache, use_cache=True, logits_to_keep=1)
        device = inputs["input_ids"].device
        generator = torch.Generator(device=device)
        generator.manual_seed(job.seed)
        text = inputs["input_ids"][0]
        audio = inputs.get("audio_input_ids")
        if audio is not None and "audio_input_ids_mask" in inputs:
            audio = audio[0][inputs["audio_input_ids_mask"][0].bool()]
        elif audio is not None:
            audio = audio[0]
        window = max(job.options.ras_win_len, 1)
        history = audio[-window:].cpu().numpy() if audio is not None else np.zeros((0, self.num_codebooks), np.int64)
        row = Row(job=job, generator=generator,
                  bos_delay=self._initial_delay(text, self.audio_bos, bos=True),
                  eos_delay=self._initial_delay(text, self.delay_token, bos=False),
                  last_text=int(text[-1]), history=history, length=int(text.shape[0]))
        row.logits = self._codebook_logits(outputs.logits[0, -1])
        self._merge(row, cache, inputs.get("attention_mask"))
        return row

    def _initial_delay(self, text: torch.Tensor, token: int, bos: bool) -> torch.Tensor:
        """As HiggsAudioV2DelayPatternLogitsProcessor's first call: look for `token` in the last K text ids."""
        k = self.num_codebooks
        found = np.flatnonzero(text[-k:].cpu().numpy() == token)
        if len(found):
            return self.delay_pattern - (k - int(found[0]))
        return np.zeros(k, dtype=np.int64) if bos else self.delay_pattern.copy()

    def _merge(self, row: Row, cache: DynamicCache, attention_mask: torch.Tensor | None) -> None:
        mask = attention_mask if attention_mask is not None else \
            torch.ones((1, row.length), dtype=torch.long, device=self.model.device)
        if self.cache is None:
            self.cache, self.mask, self.rows = cache, mask, [row]
            return
        old_len, new_len = self.mask.shape[1], mask.shape[1]
        width = max(old_len, new_len)
        for mine, theirs in zip(self.cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_left_pad(mine.keys, width), _left_pad(theirs.keys, width)])
            mine.values = torch.cat([_left_pad(mine.values, width), _left_pad(theirs.values, width)])
        self.mask = torch.cat([_left_pad(self.mask, width, dim=1), _left_pad(mask, width, dim=1)])
        self.rows.append(row)

    # ---- one step for every row -------------------------------------------------------------
    def sample(self) -> tuple[list[Row], list[Row]]:
        """Draw the next frame of every row. Returns the rows that finished and the rows whose logits were
        not numbers (both already removed from the batch).

        Rows with the same top-k are drawn together (one top-k, one softmax), but every operation works
        along a row's own codes, over the row's own top-k width, and every random number comes from the
        row's own generator, so a row's frame does not depend on which rows share the step."""
        rows = self.rows
        raw = torch.stack([row.logits for row in rows])  # (B, K, V)
        broken = torch.isnan(raw).flatten(1).any(1).tolist()  # a model fault fails its own row, not the step
        scores = self._delay_pattern(rows, raw)
        frames = np.zeros((len(rows), self.num_codebooks), np.int64)
        groups: dict[int, list[int]] = {}  # top-k width -> rows drawing with it (0: greedy)
        for index, row in enumerate(rows):
            if not broken[index]:
                options = row.job.options
                groups.setdefault(top_k(options, self.codebook_size) if options.temperature else 0, []).append(index)
        for width, members in groups.items():
            chosen = scores[members]
            frames[members] = (chosen.argmax(dim=-1) if width == 0 else
                               draw([rows[i] for i in members], chosen, width)).cpu().numpy()
        finished = []
        for index, (row, frame, logits) in enumerate(zip(rows, frames, raw, strict=True)):
            if broken[index]:
                continue
            # per-row bookkeeping on tiny arrays: numpy, not torch (a torch op costs more than the work)
            frame = torch.from_numpy(repetition_aware(row, frame, logits, self.stream_bos, self.stream_eos))
            row.frames.append(frame)
            row.last_text = self._next_text_token(row, frame)
            if row.job.on_frame is not None:
                row.job.on_frame(frame)
            if row.last_text == self.eos_token or row.steps >= row.job.options.max_new_tokens \
                    or row.job.cancel.is_set():
                finished.append(row)
        failed = [row for row, bad in zip(rows, broken, strict=True) if bad]
        if finished or failed:
            self.remove(finished + failed)
        return finished, failed

    def forward(self) -> None:
        """Feed every row its latest frame and keep the logits for the next draw."""
        if not self.rows:
            return
        device = self.mask.device
        audio = torch.stack([row.frames[-1] for row in self.rows]).unsqueeze(1).to(device)  # (B, 1, K)
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self.rows), 1))], dim=1)
        positions = torch.tensor([[row.length] for row in self.rows], device=device)
        with self.lora.serving([row.job.adapter for row in self.rows], decoding=True):
            if self.invariance is None:
                outputs = self.step(audio_input_ids=audio, attention_mask=self.mask, position_ids=positions,
                                    cache=self.cache, use_cache=True)
            else:  # each row attends to its own keys only: the padding before them is cut off, not masked
                starts = torch.tensor([self.mask.shape[1] - row.length - 1 for row in self.rows])
                with self.invariance.decoding():
                    outputs = self.step(audio_input_ids=audio, position_ids=positions, cache=self.cache,
                                        use_cache=True, row_starts=starts)
        logits = outputs.logits[:, -1].float()
        for index, row in enumerate(self.rows):
            row.length += 1
            row.logits = self._codebook_logits(logits[index])

    def remove(self, rows: list[Row]) -> None:
        """Drop rows from the batch (finished, cancelled or failed) and the padding no row needs."""
        keep = [i for i, row in enumerate(self.rows) if all(row is not gone for gone in rows)]
        self.rows = [self.rows[i] for i in keep]
        if not self.rows:
            self.cache = self.mask = None
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.mask = self.mask[index]
        trim = int((self.mask.cumsum(dim=1) == 0).sum(dim=1).min())  # leading columns padded in every row
        self.mask = self.mask[:, trim:]
        for layer in self.cache.layers:
            layer.keys = layer.keys[index, :, trim:]
            layer.values = layer.values[index, :, trim:]

    # ---- sampling ---------------------------------------------------------------------------
    def _codebook_logits(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.to(torch.float32).reshape(self.num_codebooks, self.codebook_size)

    def _delay_pattern(self, rows: list[Row], raw: torch.Tensor) -> torch.Tensor:
        """Leading codebooks wait at stream-BOS; after a stream ends, the others are walked to stream-EOS."""
        waiting = np.stack([row.bos_delay >= 0 for row in rows])
        for row, wait in zip(rows, waiting, strict=True):
            row.bos_delay[wait] -= 1
            if row.last_text == self.delay_token:
                row.eos_delay -= 1
        ending = np.stack([row.eos_delay <= 0 for row in rows])
        if not waiting.any() and not ending.any():  # most steps: nothing to mask
            return raw
        codes = torch.arange(self.codebook_size, device=raw.device)
        waiting, ending = (torch.from_numpy(mask).to(raw.device)[..., None] for mask in (waiting, ending))
        scores = raw.masked_fill(waiting & (codes != self.stream_bos), -float("inf"))
        return scores.masked_fill(ending & (codes != self.stream_eos), -float("inf"))

    def _next_text_token(self, row: Row, frame: np.ndarray) -> int:
        """The text-stream token of this step: audio, delay (a stream is ending) or eos (all have ended)."""
        ended = frame == self.stream_eos
        if bool(ended.all()):
            return self.eos_token
        if bool(ended.any()) or row.last_text == self.delay_token:
            return self.delay_token
        return self.audio_token


def _left_pad(tensor: torch.Tensor, width: int, dim: int = 2) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    shape = list(tensor.shape)
    shape[dim] = missing
    return torch.cat([tensor.new_zeros(shape), tensor], dim=dim)
