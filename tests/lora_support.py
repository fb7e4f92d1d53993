"""Trained voices for tests, written without the training code: random nonzero LoRA weights for the tiny model in
PEFT's layout (inference/model/adapters.py `save_adapter`), with a card."""

from __future__ import annotations

from pathlib import Path

import torch

from inference.model.adapters import save_adapter

TARGETS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "audio_mlp.down_proj")


def card(name: str, rank: int = 4) -> dict:
    return {"schema": 1, "name": name, "speaker": name, "description": f"{name}, a voice trained for the tests",
            "consent": {"statement": "I recorded this voice and agree to its training.", "at": "2026-12-05T00:00:00Z"},
            "minutes": 2.0, "clips": 12, "steps": 30, "rank": rank, "eval": {}, "base_model": "tiny-random",
            "created": "2026-12-05T00:00:00Z"}


def write_trained_voice(root: Path, slug: str, model, seed: int, name: str | None = None, rank: int = 4,
                        base_model: str = "tiny-random", strength: float = 0.5) -> Path:
    """A random adapter on every layer's attention and audio down-projection of `model`."""
    generator = torch.Generator().manual_seed(seed)
    modules = dict(model.named_modules())
    layers = {}
    for path, module in modules.items():
        if isinstance(module, torch.nn.Linear) and path.endswith(TARGETS):
            a = torch.randn(rank, module.in_features, generator=generator) * strength
            b = torch.randn(module.out_features, rank, generator=generator) * strength
            layers[path] = (a, b)
    return save_adapter(Path(root) / slug, layers, base_model, alpha=2 * rank, card=card(name or slug, rank))
