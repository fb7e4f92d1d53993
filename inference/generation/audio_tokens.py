"""Generated audio codes -> audio: the delay pattern reverted, frames decoded by the audio tokenizer, and
growing windows decoded while a take streams."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from inference.contract.result import StreamChunk


class AudioTokens:
    """The audio tokenizer's side of the model: `processor` (its stream BOS/EOS ids, the delay pattern,
    the audio tokenizer) and the batcher whose device turns a decode waits for."""

    def __init__(self, processor, batcher, device) -> None:
        self.processor, self.batcher, self.device = processor, batcher, device

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

    def decode_frames(self, frames: torch.Tensor) -> np.ndarray:
        if frames.shape[0] == 0:
            return np.zeros(0, np.float32)
        with self.batcher.device_turn(), torch.inference_mode():  # between batch steps (see Batcher)
            audio = self.processor.audio_tokenizer.decode(frames.T.unsqueeze(0).to(self.device)).audio_values
        return audio.reshape(-1).float().cpu().numpy()

    @property
    def hop(self) -> int:
        return self.processor.audio_tokenizer.config.hop_length

    def stream_chunks(self, frames: Iterator[torch.Tensor], first_chunk_frames: int, chunk_frames: int
                       ) -> Iterator[tuple[StreamChunk, int]]:
        """While generating, decode growing windows of aligned frames. Each window re-decodes a little
        left context and holds back the last few frames (decoded, but used only as right context), so
        the chunks match the whole-take decode. Measured on the tokenizer's decoder (random codes, 90 frames):
        8 frames of context and 5 of hold-back stay within 5e-6 of the peak of the whole decode (3 of
        hold-back: 3e-4; the hold-back, not the context, sets the error).
        Yields (chunk, frames emitted so far)."""
        context, holdback = 8, 5
        rows: list[torch.Tensor] = []
        emitted, target = 0, first_chunk_frames
        for row in frames:
            rows.append(row)
            if len(rows) < emitted + target + holdback + len(row):  # len(row) = codebooks (delay)
                continue
            aligned = self.codes_to_frames(torch.stack(rows))
            ready = aligned.shape[0] - holdback
            if ready - emitted < target:
                continue
            start = max(emitted - context, 0)
            audio = self.decode_frames(aligned[start:])  # the held-back frames serve as right context
            chunk = StreamChunk(np.clip(audio[(emitted - start) * self.hop:(ready - start) * self.hop], -1.0, 1.0))
            emitted, target = ready, chunk_frames
            yield chunk, emitted
