"""A rendered prompt and its audio -> the model's inputs, built as the processor builds them, except that
audio already in codes (the parts of a take spoken so far) goes in as those codes.

The processor takes waveforms only, so a long text's or a dialogue's context (up to two parts of up to 164 s
each) was decoded to audio and encoded back by the audio tokenizer for every part: the encoder's memory grows
with the audio it is given (a process at 1 GB peaked at 4.9 GB on the tiny checkpoint) and it changes the codes a
little. Boson AI's own long-form generation puts the generated codes back into the context, as done here.
Reference clips (at most 30 s) are still encoded, without gradients.
"""

from __future__ import annotations

import re

import numpy as np
import torch


def model_inputs(processor, rendered: str, audio: list[np.ndarray | torch.Tensor], sample_rate: int,
                 device) -> dict[str, torch.Tensor]:
    """`rendered` holds one audio placeholder per item of `audio`: a clip (mono float32 at `sample_rate`)
    or aligned frames (F x K codes). Returns input_ids, attention_mask and, with audio, audio_input_ids
    (1 x T x K, each item with its stream BOS/EOS in the delay pattern) and audio_input_ids_mask."""
    rows = [_delayed(processor, codes if isinstance(codes, torch.Tensor) else encode(processor, codes, sample_rate))
            for codes in audio]
    if rendered.count(processor.audio_token) != len(rows):
        raise ValueError(f"the prompt has {rendered.count(processor.audio_token)} audio placeholders "
                         f"for {len(rows)} audio items")
    lengths = iter(len(row) for row in rows)
    text = re.sub(re.escape(processor.audio_token), lambda _: processor.get_audio_tokens(next(lengths)), rendered)
    inputs = dict(processor.tokenizer([text], return_tensors="pt"))
    if rows:
        codes = torch.cat(rows)[None]
        inputs.update(audio_input_ids=codes, audio_input_ids_mask=torch.ones(codes.shape[:2], dtype=torch.bool))
    return {name: value.to(device) for name, value in inputs.items()}


def encode(processor, clip: np.ndarray, sample_rate: int) -> torch.Tensor:
    """A clip -> its aligned frames (F x K) by the audio tokenizer, as the processor encodes it."""
    features = processor.feature_extractor(clip, sampling_rate=sample_rate, padding=False, return_tensors="pt")
    features.pop("padding_mask", None)
    tokenizer = processor.audio_tokenizer
    with torch.no_grad():
        codes = tokenizer.encode(**{k: v.to(tokenizer.device) for k, v in features.items()}).audio_codes
    return codes[0].T.cpu()


def _delayed(processor, frames: torch.Tensor) -> torch.Tensor:
    """Aligned frames (F x K) -> the rows the model reads (F + K + 1 x K): stream BOS, the frames, stream EOS,
    in the delay pattern."""
    codes = frames.T.to(torch.long)[None]
    bos = codes.new_full((1, codes.shape[1], 1), processor.audio_stream_bos_id)
    eos = codes.new_full((1, codes.shape[1], 1), processor.audio_stream_eos_id)
    return processor.build_delay_pattern(torch.cat([bos, codes.cpu(), eos], dim=2))[0].T
