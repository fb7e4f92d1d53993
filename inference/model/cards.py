"""Trained voices on disk, without torch: each is a folder `<trained_dir>/<slug>/` holding a PEFT LoRA adapter
(`adapter_config.json`, `adapter_model.safetensors`) and its card (`card.json`: who speaks, their consent, the data,
the eval scores, the base model). The studio lists voices from here; the engine loads the weights (adapters.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"
CARD = "card.json"
PREFIX = "base_model.model."  # PEFT's keys: base_model.model.<module path>.lora_A.weight
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\Z")  # a folder name that is safe in a path and a URL


@dataclass(frozen=True)
class TrainedVoice:
    """One trained voice: its folder name (the adapter's name), the name on its card, and the card itself."""

    slug: str
    name: str
    card: dict

    @property
    def description(self) -> str | None:
        """Words for the scene, when the card gives any (optional)."""
        text = self.card.get("description")
        return text.strip() or None if isinstance(text, str) else None



def read_card(folder: Path) -> dict:
    """The card of a trained voice's folder ({} when it has none or it is not JSON: the folder name serves)."""
    try:
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def trained_voices(root: Path | str | None) -> list[TrainedVoice]:
    """Every complete trained voice under `root` (config and weights present), sorted by folder name. A folder
    that is not one (a half-written training run, a stray file) is skipped with a log line, never an error."""
    root = Path(root) if root else None
    if root is None or not root.is_dir():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or not SLUG.match(folder.name):
            continue
        if not (folder / CONFIG).is_file() or not (folder / WEIGHTS).is_file():
            log.info("skipping %s: no %s and %s (not a finished trained voice)", folder, CONFIG, WEIGHTS)
            continue
        card = read_card(folder)
        name = card.get("name") if isinstance(card.get("name"), str) and card["name"].strip() else folder.name
        found.append(TrainedVoice(folder.name, " ".join(name.split()), card))
    return found


def save_adapter(folder: Path, layers: dict, base_model: str, alpha: float, card: dict | None = None) -> Path:
    """Write an adapter in PEFT's layout: `layers` maps a module path to (A, B), unscaled, as arrays (or CPU tensors).
    For tests and benches; training writes the same files through PEFT."""
    from safetensors.numpy import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for path, (a, b) in layers.items():
        arrays[f"{PREFIX}{path}.lora_A.weight"] = np.ascontiguousarray(a, dtype=np.float32)
        arrays[f"{PREFIX}{path}.lora_B.weight"] = np.ascontiguousarray(b, dtype=np.float32)
    rank = next(iter(arrays.values())).shape[0]
    config = {"peft_type": "LORA", "r": rank, "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none",
              "target_modules": sorted({path.rpartition(".")[2] for path in layers}), "base_model_name_or_path": base_model}
    (folder / CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
    save_file(arrays, str(folder / WEIGHTS))
    if card is not None:
        (folder / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
    return folder
