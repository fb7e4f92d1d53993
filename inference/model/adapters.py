"""Trained voices' LoRA adapters in the engine: read a PEFT adapter folder, check it fits the loaded model, and keep
the ones in use loaded (least recently used first out, at most `cap`).

The layout is PEFT's: `adapter_config.json` (r, lora_alpha, target_modules, base_model_name_or_path) and
`adapter_model.safetensors` with `base_model.model.<module path>.lora_A.weight` (r x in) and `.lora_B.weight`
(out x r); a target linear computes `W x + (alpha / r) B A x`. The scale is folded into B once, here, so a decode
step spends two thin products per row and target linear (generation/lora.py applies them).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file

from inference.contract.errors import InvalidRequest, StudioError
from inference.model.cards import CONFIG, PREFIX, SLUG, WEIGHTS


@dataclass(eq=False)
class Adapter:
    """One loaded adapter: for each target linear (its module path), A (r x in) and B already scaled (out x r)."""

    name: str
    rank: int
    layers: dict[str, tuple[torch.Tensor, torch.Tensor]]
    stamp: float = 0.0  # the weights file's modification time: a voice trained again is read again


class AdapterError(StudioError):
    """A trained voice's files cannot be used with this model; the message says why and what to do."""


def load_adapter(folder: Path, model, model_id: str) -> Adapter:
    """Read and check one adapter folder against the loaded model. Raises AdapterError with a plain sentence."""
    folder = Path(folder)
    who = f"The trained voice {folder.name!r}"
    for needed in (CONFIG, WEIGHTS):
        if not (folder / needed).is_file():
            raise AdapterError(f"{who} is incomplete: {needed} is missing from {folder.name}/. Train it again.")
    try:
        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        tensors = load_file(str(folder / WEIGHTS), device="cpu")
    except Exception as err:  # unreadable JSON or safetensors: the same answer
        raise AdapterError(f"{who} cannot be read ({type(err).__name__}): its files are damaged.") from None
    rank, scale, base = _check_config(who, config)
    if base.rstrip("/") != str(model_id).rstrip("/"):
        raise AdapterError(f"{who} was trained on {base!r}, but this studio runs {model_id!r}: an adapter only "
                           "fits the model it was trained on.")
    modules = dict(model.named_modules())
    layers = {}
    device, dtype = model.device, model.dtype  # (the float dtype, also of a quantized model)
    for key in tensors:
        if not key.endswith(".lora_A.weight"):
            continue
        path = key.removeprefix(PREFIX).removesuffix(".lora_A.weight")
        a, b = tensors[key], tensors.get(f"{PREFIX}{path}.lora_B.weight")
        linear = modules.get(path)
        if not isinstance(linear, torch.nn.Linear) or b is None:
            raise AdapterError(f"{who} names a layer this model does not have ({path}).")
        if a.shape != (rank, linear.in_features) or b.shape != (linear.out_features, rank):
            raise AdapterError(f"{who} does not fit {path}: A is {tuple(a.shape)} and B {tuple(b.shape)}, "
                               f"the layer needs ({rank}, {linear.in_features}) and ({linear.out_features}, {rank}).")
        layers[path] = (a.to(device, dtype), (b * scale).to(device, dtype))
    if not layers:
        raise AdapterError(f"{who} holds no LoRA weights.")
    return Adapter(folder.name, rank, layers, _stamp(folder))


def _stamp(folder: Path) -> float:
    try:
        return (folder / WEIGHTS).stat().st_mtime
    except OSError:
        return 0.0


def _check_config(who: str, config: object) -> tuple[int, float, str]:
    """The rank, the scale of B A and the base model of a sane config."""
    if not isinstance(config, dict) or config.get("peft_type") != "LORA":
        raise AdapterError(f"{who} is not a LoRA adapter (adapter_config.json needs \"peft_type\": \"LORA\").")
    rank, alpha, base = config.get("r"), config.get("lora_alpha"), config.get("base_model_name_or_path")
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= 1024:
        raise AdapterError(f"{who} has a rank r={rank!r}; it must be a whole number from 1 to 1024.")
    if not isinstance(alpha, int | float) or isinstance(alpha, bool) or alpha <= 0:
        raise AdapterError(f"{who} has lora_alpha={alpha!r}; it must be a positive number.")
    if not isinstance(base, str) or not base:
        raise AdapterError(f"{who} does not say which model it was trained on (base_model_name_or_path).")
    if config.get("bias", "none") != "none":
        raise AdapterError(f"{who} trains biases (bias={config['bias']!r}); only bias \"none\" is served.")
    if config.get("use_dora"):
        raise AdapterError(f"{who} is a DoRA adapter (use_dora); only plain LoRA is served.")
    scale = alpha / rank ** 0.5 if config.get("use_rslora") else alpha / rank  # PEFT's two scalings
    return rank, scale, base


class Adapters:
    """The trained voices the engine has loaded: each is read once, then kept until `cap` others were used more
    recently. A row holds its Adapter itself, so dropping one from here never disturbs a take under way."""

    def __init__(self, root: Path | str | None, cap: int = 8) -> None:
        self.root = Path(root) if root else None
        self.cap = max(int(cap), 1)
        self._loaded: OrderedDict[str, Adapter] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0  # folders read so far (a cached pick reads nothing)

    @property
    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._loaded)

    def get(self, name: str, model, model_id: str) -> Adapter:
        """The adapter of the trained voice `name`, loaded once. Raises InvalidRequest for an unknown name."""
        if not isinstance(name, str) or not SLUG.match(name):
            raise InvalidRequest(f"{str(name)[:40]!r} is not a trained voice's name (lower-case letters, digits, "
                                 "'-' and '_').")
        folder = self.root / name if self.root else None
        if folder is None or not folder.is_dir():
            raise InvalidRequest(f"There is no trained voice named {name!r} on this server.")
        with self._lock:
            kept = self._loaded.get(name)
            if kept is not None and kept.stamp == _stamp(folder):
                self._loaded.move_to_end(name)
                return kept
        adapter = load_adapter(folder, model, model_id)  # outside the lock: other picks need not wait
        with self._lock:
            self.loads += 1
            self._loaded[name] = adapter
            self._loaded.move_to_end(name)
            while len(self._loaded) > self.cap:
                self._loaded.popitem(last=False)
        return adapter
