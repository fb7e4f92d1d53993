"""A held-out sentence spoken by the model being trained (or with its adapter off: the base voice), with the
prompt the engine uses for a scene and no reference clip. transformers' own `generate` runs it: the engine's
batched decode loop serves finished voices, this only hears how training goes."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from inference.contract.request import SAMPLE_RATE
from inference.prompting.inputs import model_inputs
from inference.prompting.prompt import build_conversation
from inference.prompting.text import normalize_text
from inference.training.examples import TRAINING_SCENE


def speak(model, processor, text: str, max_frames: int, seed: int = 0, base: bool = False) -> np.ndarray:
    """Mono float32 at 24 kHz. `base`: with the LoRA adapter switched off (a PEFT model's base voice)."""
    conversation = build_conversation(normalize_text(text), TRAINING_SCENE)
    rendered = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    device = next(model.parameters()).device
    inputs = model_inputs(processor, rendered, [], SAMPLE_RATE, device)
    was_training = model.training
    model.eval()
    torch.manual_seed(seed)
    try:
        with torch.no_grad(), (model.disable_adapter() if base else contextlib.nullcontext()):
            codes = model.generate(**inputs, max_new_tokens=max_frames, do_sample=True, temperature=0.7, top_p=0.95,
                                   top_k=50)
        return processor.batch_decode(codes)[0].float().cpu().numpy().reshape(-1)
    finally:
        model.train(was_training)

