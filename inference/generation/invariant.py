"""Batch-invariant decode steps: a row's logits are, bit for bit, the ones it would get generating alone.

Kernels choose how to block a dot product (the order its terms are added in) from the shapes they see. An 8-row
matmul on CPU does not give a row the bits a 1-row matmul gives it, and attention over a left-padded cache does not
give a row the bits of its own unpadded cache. Sampling turns those last-bit differences into a different take about
once in 10^5 draws, which breaks the studio's promise "same seed + same input = same take" for a visitor who happened
to share the model. During a decode step, therefore:

- each linear layer computes every row on its own shapes: on CPU one matrix-vector product per row (`torch.bmm` over
  the rows, the weight broadcast, not copied); on CUDA the rows are padded to one fixed count (the batch size), so
  one kernel with one blocking serves every step, whatever the batch holds, at the cost of nothing on a decode step
  that is bound by memory bandwidth;
- attention runs row by row over that row's own cached keys (its left padding cut off): the very call a solo take
  makes.

Prefill runs at batch 1 and is left as it is. Measured on CPU (tiny-random, 8 staggered rows x 300 steps): plain
batching gave 2385 of 2392 steps different logits from the solo takes, this gives 0.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS


class RowInvariance:
    """Installed on a model once (see `of`); `decoding()` marks the forward calls that are batched decode steps."""

    @classmethod
    def of(cls, model, fixed_rows: int) -> RowInvariance:
        if getattr(model, "_row_invariance", None) is None:
            model._row_invariance = cls(model, fixed_rows)
        return model._row_invariance

    def __init__(self, model, fixed_rows: int) -> None:
        self.active = False
        self.fixed_rows = fixed_rows if model.device.type == "cuda" else 0  # 0: one product per row (CPU)
        base = model.config._attn_implementation
        name = f"hvs-rows-{base}"
        AttentionInterface.register(name, _row_attention(ALL_ATTENTION_FUNCTIONS[base], lean=base == "sdpa"))
        if base in ALL_MASK_ATTENTION_FUNCTIONS:  # outside decode steps the model stays exactly as it was
            ALL_MASK_ATTENTION_FUNCTIONS.register(name, ALL_MASK_ATTENTION_FUNCTIONS[base])
        model.config._attn_implementation = name
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.forward = types.MethodType(self._linear(module.forward), module)

    def _linear(self, forward):
        invariance = self

        def rowwise(module, x: torch.Tensor) -> torch.Tensor:
            if not invariance.active or x.numel() == 0:  # (a decode step's text rows are empty)
                return forward(x)
            rows = x.reshape(-1, x.shape[-1])
            if invariance.fixed_rows:
                padded = F.pad(rows, (0, 0, 0, max(invariance.fixed_rows - len(rows), 0)))
                out = forward(padded)[: len(rows)]
            else:
                out = torch.bmm(rows.unsqueeze(1), module.weight.t().expand(len(rows), -1, -1)).squeeze(1)
                if module.bias is not None:
                    out = out + module.bias
            return out.reshape(*x.shape[:-1], out.shape[-1])

        return rowwise

    @contextlib.contextmanager
    def decoding(self) -> Iterator[None]:
        self.active = True
        try:
            yield
        finally:
            self.active = False


def _row_attention(base, lean: bool):
    @torch.compiler.disable  # a Python loop over the rows: a compiled step calls it as it is
    def attend(module, query, key, value, attention_mask, row_starts: torch.Tensor | None = None, **kwargs):
        if row_starts is None:  # prefill: one row, no padding
            return base(module, query, key, value, attention_mask, **kwargs)
        starts = row_starts.tolist()
        if lean:  # SDPA's own call for one query over unmasked keys: transformers' wrapper adds only checks
            scale, gqa = kwargs.get("scaling"), getattr(module, "num_key_value_groups", 1) > 1
            out = torch.cat([F.scaled_dot_product_attention(query[i:i + 1], key[i:i + 1, :, s:], value[i:i + 1, :, s:],
                                                            scale=scale, enable_gqa=gqa)
                             for i, s in enumerate(starts)])
            return out.transpose(1, 2).contiguous(), None
        kwargs.pop("position_ids", None)  # each call sees one whole sequence
        outputs = [base(module, query[i:i + 1], key[i:i + 1, :, s:], value[i:i + 1, :, s:], None, **kwargs)[0]
                   for i, s in enumerate(starts)]
        return torch.cat(outputs), None

    return attend
