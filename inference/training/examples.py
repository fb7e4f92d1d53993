"""A clip and its transcript -> one training example, in the prompt layout the engine speaks from when it has a
scene and no reference clip (prompt.build_conversation; the trained voice then speaks from text alone):

    system "Generate audio following instruction." / scene / user: the transcript / assistant: the clip's codes

Labels: only the target clip's codes carry loss; every other position is -100. In the delay pattern the clip's
rows are [stream BOS, frames, stream EOS] with codebook k shifted by k steps (F + K + 1 rows for F frames):
- the BOS codes are -100: the engine's decoder forces them (codebook k waits k steps at BOS), they are input;
- codebook 0's EOS (row F + 1) carries loss: it is the one decision to end the take that the decoder leaves to
  the model, so a voice trained without it would not learn to stop;
- the other EOS codes are -100: once codebook 0 has ended, the decoder walks the others to EOS itself.
Text (system, scene, transcript, headers) has no label: the text head is off (forward's `labels` unused).
Batches are right-padded: pad text has attention 0, pad audio rows are masked out and labelled -100.
"""

from __future__ import annotations

import torch

from inference.contract.request import SAMPLE_RATE
from inference.prompting.dialogue import DEFAULT_SCENE
from inference.prompting.inputs import model_inputs
from inference.prompting.prompt import build_conversation
from inference.prompting.text import normalize_text

IGNORE = -100
TRAINING_SCENE = DEFAULT_SCENE  # "Audio is recorded from a quiet room."


def build_example(processor, text: str, frames: torch.Tensor, scene: str | None = TRAINING_SCENE
                  ) -> dict[str, torch.Tensor]:
    """One example (batch of 1): the model's inputs plus `audio_labels` (1 x rows x K). `frames`: F x K codes."""
    conversation = build_conversation(normalize_text(text), scene)
    conversation.append({"role": "assistant", "content": [{"type": "audio", "audio": None}]})
    rendered = processor.apply_chat_template(conversation, add_generation_prompt=False, tokenize=False)
    inputs = model_inputs(processor, rendered, [frames], SAMPLE_RATE, "cpu")
    inputs["audio_labels"] = target_labels(inputs["audio_input_ids"][0], processor.audio_stream_bos_id,
                                           processor.audio_stream_eos_id)[None]
    return inputs


def target_labels(rows: torch.Tensor, stream_bos: int, stream_eos: int) -> torch.Tensor:
    """The delay-pattern rows of one clip (F + K + 1 x K) -> its labels: the codes, and codebook 0's EOS."""
    labels = rows.clone()
    codebooks = rows.shape[1]
    frames = rows.shape[0] - codebooks - 1
    labels[rows == stream_bos] = IGNORE
    labels[rows == stream_eos] = IGNORE
    labels[frames + 1, 0] = stream_eos
    return labels


def collate(examples: list[dict[str, torch.Tensor]], pad_id: int, stream_eos: int) -> dict[str, torch.Tensor]:
    """Examples -> one right-padded batch."""
    longest = max(ex["input_ids"].shape[1] for ex in examples)
    rows = max(ex["audio_input_ids"].shape[1] for ex in examples)

    def pad(tensor: torch.Tensor, length: int, value) -> torch.Tensor:
        extra = length - tensor.shape[1]
        shape = (1, extra, *tensor.shape[2:])
        return torch.cat([tensor, tensor.new_full(shape, value)], dim=1)

    return {
        "input_ids": torch.cat([pad(ex["input_ids"], longest, pad_id) for ex in examples]),
        "attention_mask": torch.cat([pad(ex["attention_mask"], longest, 0) for ex in examples]),
        "audio_input_ids": torch.cat([pad(ex["audio_input_ids"], rows, stream_eos) for ex in examples]),
        "audio_input_ids_mask": torch.cat([pad(ex["audio_input_ids_mask"], rows, False) for ex in examples]),
        "audio_labels": torch.cat([pad(ex["audio_labels"], rows, IGNORE) for ex in examples]),
    }


def position_labels(batch: dict[str, torch.Tensor], audio_token_ids: tuple[int, int]) -> torch.Tensor:
    """Labels per sequence position (B x T x K), as the model's forward lays them out: a row's labels sit on its
    audio placeholder (audio or delay token); every other position is -100. Position t's logits predict t + 1."""
    ids = batch["input_ids"]
    placeholder = (ids == audio_token_ids[0]) | (ids == audio_token_ids[1])
    labels = ids.new_full((*ids.shape, batch["audio_labels"].shape[-1]), IGNORE)
    labels[placeholder] = batch["audio_labels"][batch["audio_input_ids_mask"]]
    return labels
