"""An inaudible watermark in every take (Resemble AI's Perth neural watermark), and a detector anyone can run.

Marking: every waveform the engine hands out passes through `Watermarker.mark_chunks`, streamed chunks and
whole takes alike. The mark is applied chunk by chunk, and a take's final waveform is the concatenation
of its marked chunks, so a streamed take's chunks still add up exactly to the take (a non-streamed take is
one chunk: it is marked as a whole). Perth's inverse STFT can return a few hundred samples fewer than it was
given; the missing end is filled with the original (unmarked) samples so lengths never change. Pieces
shorter than MIN_MARK_S (a streamed take's last few frames) are too short for Perth's STFT and pass unmarked.

Only the operator can turn marking off (`--no-watermark`, `HVS_WATERMARK=0`); no request field reaches it.
Detection works whether or not this server marks its own takes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from inference.audio.incoming import ClipLimits
from inference.contract.errors import InvalidAudio, ModelLoadError

log = logging.getLogger(__name__)

THRESHOLD = 0.5  # mean per-frame mark probability above which a clip counts as marked (see BENCHMARKS.md)
MIN_MARK_S = 0.1  # Perth's STFT window is 2048 samples at 32 kHz (64 ms)
MIN_DETECT_S = 0.5
DETECT_RATE = 32_000  # Perth's own rate: decode straight to it, no second resampling
MAX_CHECK_S = 180  # longer than the longest part of a take (164 s); Perth reads ~50 s of audio a second here
CLIP_TO_CHECK = ClipLimits("The clip to check", MAX_CHECK_S,
                          advice="Check an excerpt of up to 3 minutes: a take carries the mark in every second.")
OFF_WARNING = ("WATERMARK OFF: takes from this server carry no watermark (--no-watermark / HVS_WATERMARK=0). "
               "Listeners can no longer check that they are AI-generated.")


_build_lock = threading.Lock()
_model = None


def _perth():
    """The Perth model (its weights ship in the wheel), built once per process."""
    global _model
    with _build_lock:
        if _model is not None:
            return _model
        try:
            import perth
        except ImportError as err:
            raise ModelLoadError(f"The watermark library is not installed ({err}): pip install -r requirements.txt, "
                                 "or start with --no-watermark.") from None
        if perth.PerthImplicitWatermarker is None:  # perth swallows its own ImportError (pkg_resources, librosa)
            why = _perth_import_error()
            raise ModelLoadError(f"The watermarker could not be built: {why}. Install the pinned requirements "
                                 "(setuptools<81, librosa), or start with --no-watermark.")
        with contextlib.redirect_stdout(io.StringIO()) as printed:  # perth prints "loaded PerthNet ..."
            _model = perth.PerthImplicitWatermarker(device="cpu")  # (on stdout, where the CLI writes prompts)
        log.info("watermarker ready: %s", printed.getvalue().strip())
        return _model


def _perth_import_error() -> str:
    try:
        import perth.perth_net.perth_net_implicit.perth_watermarker  # noqa: F401
    except ImportError as err:
        return f"{type(err).__name__}: {err}"
    return "perth.PerthImplicitWatermarker is None"


def _mark(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    import torch

    wave = np.asarray(waveform, dtype=np.float32)
    if len(wave) < MIN_MARK_S * sample_rate:
        return wave
    with torch.inference_mode():
        marked = np.asarray(_perth().apply_watermark(wave, sample_rate=sample_rate), dtype=np.float32)
    marked = marked[: len(wave)]
    # Perth's inverse STFT may come back a few hundred samples short: keep the original end there.
    marked = np.clip(np.concatenate([marked, wave[len(marked):]]), -1.0, 1.0)
    marked[wave == 0] = 0.0  # digital silence (the pause between dialogue turns) stays silent
    return marked


FIRST_BLOCK, BLOCK = 12 * 960, 25 * 960  # the marking grid, in samples at 24 kHz (0.48 s, then 1 s)


class Watermarker:
    """The engine's watermark switch. Built at start: when marking is on and Perth cannot be built,
    construction fails (ModelLoadError) instead of serving unmarked takes."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        if self.enabled:
            _perth()
        else:
            log.warning(OFF_WARNING)

    def mark(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """The waveform with the mark, same length (unchanged when marking is off)."""
        return _mark(waveform, sample_rate) if self.enabled else np.asarray(waveform, dtype=np.float32)

    def mark_chunks(self, chunks: Iterator, lock: Callable[[], Any] = contextlib.nullcontext) -> Iterator:
        """Mark a take's StreamChunks block by block on one fixed grid of the take's samples (FIRST_BLOCK, BLOCK),
        the same grid for a streamed and a whole take: so a take's marked result is the same whichever
        way it was asked for, and the marked chunks add up to it as closely as the unmarked ones did.
        Streamed audio is held back only until its block is complete (a single-part take's chunks fall
        on the grid). `lock()` is held while marking (the engine's turn on the device: see Batcher.device_turn)."""
        if not self.enabled:
            yield from chunks
            return
        pending: list = []  # chunks whose audio is not marked yet (their audio starts at `start`)
        start = 0
        for chunk in chunks:
            pending.append(chunk)
            audio = np.concatenate([np.asarray(c.waveform, dtype=np.float32) for c in pending])
            final = chunk.result is not None
            ready = len(audio) if final else _grid_end(start, start + len(audio)) - start
            if ready <= 0:
                continue
            with lock():
                marked = self._mark_grid(audio[:ready], chunk.sample_rate, start)
                result = None if not final else dataclasses.replace(
                    chunk.result, waveform=self._mark_grid(chunk.result.waveform, chunk.sample_rate, 0))
            # hand the marked audio back in the chunks it came in (each keeps its part), the rest waits
            offset, held = 0, []
            for piece in pending:
                size = len(piece.waveform)
                if offset + size <= ready:
                    yield dataclasses.replace(piece, waveform=marked[offset:offset + size],
                                              result=result if piece is chunk else None)
                else:
                    cut = max(ready - offset, 0)
                    if cut:
                        yield dataclasses.replace(piece, waveform=marked[offset:offset + cut])
                    held.append(dataclasses.replace(piece, waveform=np.asarray(piece.waveform)[cut:]))
                offset += size
            pending, start = held, start + ready

    def _mark_grid(self, audio: np.ndarray, sample_rate: int, start: int) -> np.ndarray:
        """`audio` (starting at sample `start` of the take) marked one grid block at a time."""
        pieces, position = [], start
        while position < start + len(audio):
            end = min(_grid_end(position, position + 1, at_least=True), start + len(audio))
            pieces.append(self.mark(audio[position - start:end - start], sample_rate))
            position = end
        return np.concatenate(pieces) if pieces else audio


def _grid_end(start: int, stop: int, at_least: bool = False) -> int:
    """The last grid boundary in (start, stop], or with `at_least` the first boundary after `start`.
    Boundaries: FIRST_BLOCK, then every BLOCK samples (the engine's first streamed chunk is 12 frames,
    the next ones 25 frames)."""
    def boundary(k: int) -> int:
        return FIRST_BLOCK + k * BLOCK

    k = max((start - FIRST_BLOCK) // BLOCK + 1, 0) if start >= FIRST_BLOCK else 0
    if at_least:
        return boundary(k)
    last = start
    while boundary(k) <= stop:
        last = boundary(k)
        k += 1
    return last


def watermarked(run: Callable[..., Iterator]) -> Callable[..., Iterator]:
    """Decorates the engine's generator of StreamChunks: everything it yields is marked by its watermarker."""

    @functools.wraps(run)
    def wrapper(engine, *args, **kwargs):
        yield from engine.watermarker.mark_chunks(run(engine, *args, **kwargs), lock=lambda: engine.batcher.device_turn())

    return wrapper


def detect(audio: Path | str | bytes | np.ndarray, sample_rate: int | None = None) -> dict:
    """Is the Perth mark in this clip? `audio`: a file path, the file's bytes, or a mono waveform with its
    sample rate. Returns {"marked": bool, "confidence": float in [0, 1]} (the mean per-frame mark
    probability). Raises InvalidAudio for a clip that cannot be read, is silent or is too short."""
    import torch

    if isinstance(audio, np.ndarray):
        if not sample_rate:
            raise ValueError("detect() needs the sample rate of a waveform")
        wave, rate = np.asarray(audio, dtype=np.float32).reshape(-1), sample_rate
    else:
        from inference.audio.incoming import read_clip

        wave, rate = read_clip(audio, CLIP_TO_CHECK, DETECT_RATE), DETECT_RATE
    if len(wave) < MIN_DETECT_S * rate:
        raise InvalidAudio(f"The clip is too short to check: at least {MIN_DETECT_S:g} s of audio is needed.")
    if not np.all(np.isfinite(wave)) or float(np.max(np.abs(wave))) < 1e-4:
        raise InvalidAudio("The clip is silent (or damaged): there is nothing to check.")
    with torch.inference_mode():
        frames = _perth().get_watermark(wave, sample_rate=rate, round=False)
    confidence = float(np.mean(frames))
    return {"marked": confidence >= THRESHOLD, "confidence": round(confidence, 3)}
