"""Trained voices for tests, written without the training code: random nonzero LoRA weights in PEFT's layout
(inference/model/cards.py `save_adapter`), with a card. No torch here: the doors' studio and resolver are built
at import (tests/voice_support.py), and collecting the tests stays light."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inference.model.cards import save_adapter

OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
TARGETS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "audio_mlp.down_proj")
# The tiny model's target linears, (in, out) (inference/model/tiny_model.py: hidden 64, 4 heads and 2 key/value
# heads of 16, intermediate 128, 2 layers). The engine checks every shape when it loads an adapter.
_TINY_LAYER = {"self_attn.q_proj": (64, 64), "self_attn.k_proj": (64, 32), "self_attn.v_proj": (64, 32),
               "self_attn.o_proj": (64, 64), "audio_mlp.down_proj": (128, 64)}
TINY_SHAPES = {f"model.layers.{i}.{name}": shape for i in range(2) for name, shape in _TINY_LAYER.items()}
DOORS_TRAINED = OUTPUT / "doors-trained"  # the doors' studio's trained voices (HVS_TRAINED_DIR)
DOORS_VOICE = "ada"


def linear_shapes(model) -> dict[str, tuple[int, int]]:
    """A loaded model's target linears, (in, out)."""
    return {path: (m.in_features, m.out_features) for path, m in model.named_modules()
            if path.endswith(TARGETS) and hasattr(m, "in_features")}


def card(name: str, rank: int = 4) -> dict:
    return {"schema": 1, "name": name, "speaker": name,
            "consent": {"statement": "I recorded this voice and agree to its training.", "at": "2026-12-05T00:00:00Z"},
            "minutes": 2.0, "clips": 12, "steps": 30, "rank": rank, "eval": {}, "base_model": "tiny-random",
            "created": "2026-12-05T00:00:00Z"}


def write_trained_voice(root: Path, slug: str, shapes: dict[str, tuple[int, int]], seed: int, name: str | None = None,
                        rank: int = 4, base_model: str = "tiny-random", strength: float = 0.5) -> Path:
    """A random adapter (A and B nonzero) on the linears `shapes` names."""
    rng = np.random.default_rng(seed)
    layers = {path: (rng.standard_normal((rank, fan_in)) * strength, rng.standard_normal((fan_out, rank)) * strength)
              for path, (fan_in, fan_out) in shapes.items()}
    return save_adapter(Path(root) / slug, layers, base_model, alpha=2 * rank, card=card(name or slug, rank))


def doors_trained() -> Path:
    """The doors' trained voice "ada" (card name "Ada Lovelace"), written once."""
    if not (DOORS_TRAINED / DOORS_VOICE / "adapter_model.safetensors").is_file():
        write_trained_voice(DOORS_TRAINED, DOORS_VOICE, TINY_SHAPES, seed=7, name="Ada Lovelace")
    return DOORS_TRAINED
