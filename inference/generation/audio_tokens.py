"""Generated audio codes -> audio: the delay pattern reverted, and frames decoded by the audio tokenizer in
bounded overlapping windows, for a whole part and for the chunks of a streamed one alike."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from inference.contract.result import StreamChunk

# The decoder's memory grows with the frames it decodes at once (a 4096-frame part took 0.7 GB more on the
# tiny checkpoint's CPU decoder, and in proportion on a GPU), so no decode sees more than a window of frames
# plus its context: 250 frames = 10 s. Each window re-decodes CONTEXT frames before it and decodes up to
# HOLDBACK frames after it as right context only. Measured on the tokenizer's decoder (random codes, 90
# frames): 8 frames of context and 5 of hold-back stay within 5e-6 of the peak of the whole decode (3 of
# hold-back: 3e-4; the hold-back, not the context, sets the error).
WINDOW, CONTEXT, HOLDBACK = 250, 8, 5


class AudioTokens:
    """The audio tokenizer's side of the model: `processor` (its stream BOS/EOS ids, the delay pattern,
    the audio tokenizer) and the batcher whose device turns a decode waits for."""

    def __init__(self, processor, batcher, device, window: int = WINDOW) -> None:
        self.processor, self.batcher, self.device, self.window = processor, batcher, device, window

    def codes_to_frames(self, generated: torch.Tensor) -> torch.Tensor:
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

    def decode(self, frames: torch.Tensor, start: int = 0, stop: int | None = None) -> np.ndarray:
        """The audio of frames[start:stop] (all of them by default), decoded a window at a time. Each window
        decodes up to CONTEXT frames before it and HOLDBACK after it (frames past `stop` included, when
        there are any) and keeps only its own samples, so memory stays flat whatever the length."""
        stop = frames.shape[0] if stop is None else stop
        pieces = [np.zeros(0, np.float32)]
        for low in range(start, stop, self.window):
            high = min(low + self.window, stop)
            first, last = max(low - CONTEXT, 0), min(high + HOLDBACK, frames.shape[0])
            audio = self._decode(frames[first:last])
            pieces.append(audio[(low - first) * self.hop:(high - first) * self.hop])
        return np.concatenate(pieces)

    def _decode(self, frames: torch.Tensor) -> np.ndarray:
        with self.batcher.device_turn(), torch.inference_mode():  # between batch steps (see Batcher)
            audio = self.processor.audio_tokenizer.decode(frames.T.unsqueeze(0).to(self.device)).audio_values
        return audio.reshape(-1).float().cpu().numpy()

    @property
    def hop(self) -> int:
        return self.processor.audio_tokenizer.config.hop_length

    def stream_chunks(self, frames: Iterator[torch.Tensor], first_chunk_frames: int, chunk_frames: int
                      ) -> Iterator[tuple[StreamChunk, int]]:
        """While generating, decode each new stretch of aligned frames as it is ready: `decode` with the
        last HOLDBACK frames held back (decoded, but used only as right context), so the chunks match
        the whole part's decode. Yields (chunk, frames emitted so far)."""
        rows: list[torch.Tensor] = []
        emitted, target = 0, first_chunk_frames
        for row in frames:
            rows.append(row)
            if len(rows) < emitted + target + HOLDBACK + len(row):  # len(row) = codebooks (delay)
                continue
            aligned = self.codes_to_frames(torch.stack(rows))
            ready = aligned.shape[0] - HOLDBACK
            if ready - emitted < target:
                continue
            chunk = StreamChunk(np.clip(self.decode(aligned, emitted, ready), -1.0, 1.0))
            emitted, target = ready, chunk_frames
            yield chunk, emitted
