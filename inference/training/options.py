"""A training run's options (no torch here: the page and the service build them)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 300
    rank: int = 16
    alpha: int = 32
    targets: tuple[str, ...] = DEFAULT_TARGETS
    lr: float = 1e-4
    eval_every: int = 25
    patience: int = 3  # evals in a row without a better held-out loss end the run
    held_out: int = 2  # clips kept out of training and scored
    seed: int = 0
    checkpointing: bool | None = None  # gradient checkpointing; None: on a GPU only
