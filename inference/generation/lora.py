"""Per-row LoRA: rows with different trained voices, and rows with none, share one decode step.

Each target linear gets a forward hook (a hook, not a wrapped forward: it runs after whatever the module's forward
is, the batch-invariant one of invariant.py included). The hook adds the LoRA delta `B (A x)` (the scale is
folded into B when the adapter loads) to the rows that carry an adapter, and leaves the other rows' outputs alone:

- prefill runs at batch 1 with its one row's adapter over all its tokens;
- a decode step computes every adapter row's delta on its own shapes, as the base product is: one `torch.bmm` of
  each row vector against that row's own A, then its own B (stacked per row once per batch make-up, and on CUDA
  padded to the fixed row count, as invariant.py pads), so a row gets the bits it gets alone. Rows are grouped
  by rank only (a rank padded with zeros would change the sums' blocking). A row without an adapter is not
  touched at all.

Only the linears some loaded adapter targets carry a hook; a studio that never loads one runs as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F

from inference.model.adapters import Adapter


class RowAdapters:
    """Installed on a model once (see `of`); the decoder says which adapters the next forward serves."""

    @classmethod
    def of(cls, model, fixed_rows: int) -> RowAdapters:
        if getattr(model, "_row_adapters", None) is None:
            model._row_adapters = cls(model, fixed_rows)
        return model._row_adapters

    def __init__(self, model, fixed_rows: int) -> None:
        self.modules = dict(model.named_modules())
        self.fixed_rows = fixed_rows if model.device.type == "cuda" else 0
        self.hooked: set[str] = set()
        self.rows: Sequence[Adapter | None] = ()  # the adapter of each row of the forward under way
        self.decoding = False  # a decode step (row by row) rather than a prefill (one row, many tokens)
        self._key: tuple = ()
        self._cache: dict[str, tuple[tuple, list]] = {}  # per target linear: the stacks of a batch's make-up

    def _hook(self, path: str):
        @torch.compiler.disable  # per-row Python: a compiled step calls it as it is
        def add_delta(module, args, out):
            if not any(self.rows):
                return None
            x = args[0]
            if x.numel() == 0:  # (a decode step's text rows are empty)
                return None
            if not self.decoding:  # prefill: one row, every token is its own
                a, b = self.rows[0].layers.get(path, (None, None))
                return None if a is None else out + ((x @ a.t()) @ b.t()).reshape(out.shape)
            return self._rows(path, x, out)

        return add_delta

    def _rows(self, path: str, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        rows, flat = x.reshape(-1, x.shape[-1]), out.reshape(-1, out.shape[-1])
        if len(rows) != len(self.rows):
            raise RuntimeError(f"a decode step gave {path} {len(rows)} rows for {len(self.rows)} takes")
        for index, a, b in self._stacks(path, rows.device):
            chosen = rows if index is None else rows[index]
            count = len(chosen)
            if self.fixed_rows:  # one kernel shape for every step on CUDA, as invariant.py pads the base product
                chosen = F.pad(chosen, (0, 0, 0, a.shape[0] - count))
            delta = torch.bmm(torch.bmm(chosen.unsqueeze(1), a), b).squeeze(1)[:count]
            flat = flat + delta if index is None else flat.index_add(0, index, delta)
        return flat.reshape(out.shape)

    def _stacks(self, path: str, device: torch.device) -> list:
        """For the rows of this step that carry an adapter targeting `path`, grouped by rank: (their row index, or
        None for every row; A^T stacked per row (k, in, r); B^T stacked (k, r, out)). Built when the batch's
        make-up changes, then reused step after step."""
        kept = self._cache.get(path)
        if kept is not None and kept[0] == self._key:
            return kept[1]
        groups: dict[int, list[int]] = {}
        for index, adapter in enumerate(self.rows):
            if adapter is not None and path in adapter.layers:
                groups.setdefault(adapter.rank, []).append(index)
        built = []
        for members in groups.values():
            a = torch.stack([self.rows[i].layers[path][0].t() for i in members])
            b = torch.stack([self.rows[i].layers[path][1].t() for i in members])
            if self.fixed_rows:
                a, b = (F.pad(t, (0, 0, 0, 0, 0, max(self.fixed_rows - len(members), 0))) for t in (a, b))
            whole = members == list(range(len(self.rows)))
            built.append((None if whole else torch.tensor(members, device=device), a, b))
        self._cache[path] = (self._key, built)
        return built

    def ensure_hooks(self, adapter: Adapter) -> None:
        """Hook the linears this adapter targets (once each). Called from the thread that runs the model."""
        for path in adapter.layers.keys() - self.hooked:
            self.modules[path].register_forward_hook(self._hook(path))
            self.hooked.add(path)

    @contextlib.contextmanager
    def serving(self, adapters: Sequence[Adapter | None], decoding: bool) -> Iterator[None]:
        """The forward calls inside serve these rows (one per row, in the batch's order): a decode step, or a
        prefill (one row)."""
        for adapter in adapters:
            if adapter is not None:
                self.ensure_hooks(adapter)
        self.rows, self.decoding = list(adapters), decoding
        self._key = tuple(self.rows)  # the batch's make-up (the adapters themselves: compared by identity)
        try:
            yield
        finally:
            self.rows, self.decoding = (), False
