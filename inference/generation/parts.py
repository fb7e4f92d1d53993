"""The pieces of a take's part-by-part loop: a part's frames until it ends, its streamed chunks relayed with
the pause before it, and the warning when a part fails."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
import torch

from inference.audio.seams import fade_in
from inference.contract.errors import StudioError
from inference.contract.result import StreamChunk
from inference.prompting.prompt import Part


def until_done(frames: queue.Queue, cancel: threading.Event) -> Iterator[torch.Tensor]:
    """The batcher's frames for one job until its end (None), or until the caller cancels: a job still
    waiting for a place in the batch sends nothing, and its caller must not wait for it."""
    while not cancel.is_set():
        try:
            row = frames.get(timeout=0.1)
        except queue.Empty:
            continue
        if row is None:
            return
        yield row


def relay(generation, part: int, parts: int, pause: np.ndarray):
    """Passes a part's streamed chunks on, marked with the part, the pause before the part going out
    just ahead of its first audio, which fades in. Returns (the generation's result, pause sent)."""
    paused = False
    try:
        while True:
            try:
                chunk = next(generation)
            except StopIteration as done:
                return done.value, paused
            if not paused:
                if len(pause):
                    yield StreamChunk(pause, part=part, parts=parts)
                chunk.waveform, paused = fade_in(chunk.waveform), True
            chunk.part, chunk.parts = part, parts
            yield chunk
    finally:
        generation.close()  # a consumer that went away stops the generation


def failed_part(index: int, count: int, part: Part, err: Exception) -> str:
    reason = str(err) if isinstance(err, StudioError) else f"{type(err).__name__}: {err}"[:200]
    who = f" ({part.speaker}'s turn)" if part.speaker else ""
    return (f"Part {index + 1} of {count}{who} could not be generated ({reason}); the take holds the "
            f"{index} part{'s' if index > 1 else ''} before it.")
