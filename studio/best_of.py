"""Best of N: make `request.candidates` takes with different seeds, score each (take_check.py), keep the best.

Every door (studio, API, CLI, worker) calls `make_takes`; none of them repeats this logic. The N takes are
N independent engine calls on single-take requests (candidates=1, their own seed), made at once in
`_synthesize_all` so that the engine's batcher generates them together.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from inference.contract.errors import StudioError
from inference.contract.request import MAX_SEED, SynthesisRequest
from inference.contract.result import SynthesisResult
from inference.scoring.take_check import TakeChecker, TakeScore

SEED_STRIDE = 1_000_003  # candidate i uses seed + i * stride: far from the seed + chunk seeds of long texts


@dataclass
class Takes:
    """The kept take, and every candidate's score (in the order they were made; None when not checked)."""

    result: SynthesisResult
    scores: list[TakeScore | None]
    best: int = 0

    @property
    def score(self) -> TakeScore | None:
        return self.scores[self.best]

    def report(self) -> dict:
        """JSON for the API and the worker: the kept seed and every candidate with its scores."""
        candidates = [s.as_dict() if s else {"seed": self.result.seed} for s in self.scores]
        for i, item in enumerate(candidates):
            item["kept"] = i == self.best
        return {"kept_seed": self.result.seed, "candidates": candidates}


def candidate_seeds(seed: int, count: int) -> list[int]:
    """The first candidate keeps the request's seed, so candidates=1 is the plain take."""
    return [(seed + i * SEED_STRIDE) % (MAX_SEED + 1) for i in range(count)]


def make_takes(engine, request: SynthesisRequest, checker: TakeChecker | None = None, check: bool = False,
               on_candidate: Callable[[int, int], None] | None = None,
               cancel: threading.Event | None = None) -> Takes:
    """One take (scored when `check`), or the best of `request.candidates` (always scored). Setting
    `cancel` stops every take (raises Cancelled)."""
    count = request.candidates
    if count == 1 and not check:
        return Takes(engine.synthesize(request, cancel), [None])
    require_checker(checker, count)
    base = request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)
    requests = [request.model_copy(update={"seed": seed, "candidates": 1})
                for seed in candidate_seeds(base, count)]
    results = _synthesize_all(engine, requests, on_candidate, cancel)
    scores = [score_take(checker, req, res) for req, res in zip(requests, results, strict=True)]
    best = min(range(count), key=lambda i: scores[i].rank())
    return Takes(results[best], list(scores), best)


def require_checker(checker: TakeChecker | None, count: int = 1) -> None:
    if checker is None or not checker.enabled:
        need = f"Best of {count} needs" if count > 1 else "Checking a take needs"
        raise StudioError(f"{need} the take check, which is off on this server (no transcription model "
                          "(--asr-model / HVS_ASR_MODEL) and no speaker model (--speaker-model / HVS_SPEAKER_MODEL)).")


def score_take(checker: TakeChecker, request: SynthesisRequest, result: SynthesisResult) -> TakeScore:
    return checker.check(request.text, result.waveform, result.sample_rate, result.seed, request.reference_audio)


def _synthesize_all(engine, requests: list[SynthesisRequest], on_candidate=None, cancel=None
                    ) -> list[SynthesisResult]:
    """The candidates all at once: the engine's batcher generates them together, each with its own seed
    (so each equals the take its seed gives alone). `on_candidate(done, count)` reports progress."""
    if on_candidate is not None:
        on_candidate(0, len(requests))
    with ThreadPoolExecutor(len(requests), thread_name_prefix="hvs-candidate") as pool:
        futures = [pool.submit(engine.synthesize, request, cancel) for request in requests]
        results = []
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if on_candidate is not None:
                on_candidate(done, len(requests))
    return results
