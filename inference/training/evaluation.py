"""Teacher-forced scores of a model on examples: the loss per codebook and how often the most likely code is the
clip's own code (accuracy), over the labelled positions only (see examples.py)."""

from __future__ import annotations

import torch

from inference.training.examples import IGNORE, position_labels


def teacher_forced(model, examples: list[dict[str, torch.Tensor]], audio_token_ids: tuple[int, int],
                   codebooks: int) -> dict[str, float]:
    """{"loss": mean cross-entropy per codebook, "accuracy": share of labelled codes predicted exactly}."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    loss = right = counted = 0.0
    with torch.no_grad():
        for example in examples:
            batch = {name: value.to(device) for name, value in example.items()}
            out = model(**batch, use_cache=False)
            labels = position_labels(batch, audio_token_ids)[:, 1:]
            guesses = out.logits.reshape(*batch["input_ids"].shape, codebooks, -1)[:, :-1].argmax(-1)
            kept = labels != IGNORE
            right += float((guesses[kept] == labels[kept]).sum())
            counted += float(kept.sum())
            loss += float(out.loss) / codebooks
    model.train(was_training)
    return {"loss": loss / max(len(examples), 1), "accuracy": right / max(counted, 1.0)}
