"""LoRA on the model's linears with PEFT, saved in PEFT's own format (what the serving side loads):

    adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "target_modules", "base_model_name_or_path", ...}
    adapter_model.safetensors  base_model.model.<module path>.lora_A.weight (r x in), .lora_B.weight (out x r)

Training works on a private copy of the model's module tree that shares the weight tensors with the original
(`trainable_copy`): a studio that serves takes keeps serving from its own untouched modules, and the 3B model's
weights are not held twice. The base weights stay frozen; only the LoRA matrices learn.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import torch

from inference.contract.errors import InvalidRequest
from inference.model.cards import WEIGHTS


def trainable_copy(model: torch.nn.Module) -> torch.nn.Module:
    """The same modules, copied, around the very same parameter and buffer tensors (no weights are copied)."""
    shared = {id(t): t for t in itertools.chain(model.parameters(), model.buffers())}
    twin = copy.deepcopy(model, memo=shared)
    twin.requires_grad_(False)
    return twin


def attach_lora(model: torch.nn.Module, rank: int, alpha: int, targets: tuple[str, ...], base_model: str):
    """`model` (a trainable_copy) wrapped by PEFT with fresh LoRA matrices on the `targets` linears. A target is a
    module name or the end of its path ("q_proj", "audio_mlp.up_proj")."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, bias="none", target_modules=list(targets))
    peft_model = get_peft_model(model, config)
    peft_model.peft_config["default"].base_model_name_or_path = base_model  # else the checkpoint's folder
    return peft_model


def save_adapter(peft_model, folder: Path) -> None:
    """adapter_config.json + adapter_model.safetensors (PEFT's save_pretrained)."""
    peft_model.save_pretrained(str(folder), save_embedding_layers=False)  # no look-up of the base on the Hub


def load_adapter_weights(peft_model, folder: Path) -> None:
    """Put a saved adapter's LoRA matrices back into `peft_model` (same rank and targets)."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = load_file(str(folder / WEIGHTS), device=str(_device(peft_model)))
    try:
        result = set_peft_model_state_dict(peft_model, state)
    except RuntimeError as err:  # another rank: the shapes differ
        raise InvalidRequest(f"The checkpoint in {folder} was trained with other settings (rank or model); resume "
                             "with the same --rank and --targets, or start again without --resume.") from err
    missing = [key for key in result.missing_keys if "lora_" in key]
    if missing:
        raise InvalidRequest(f"The checkpoint in {folder} adapts other layers ({len(missing)} LoRA weights missing); "
                             "resume with the same --targets, or start again without --resume.")


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device
