"""Best of N: make `request.candidates` takes with different seeds, score each (take_check.py), keep the best.

Every door (studio, API, CLI, worker) calls `make_takes`; none of them repeats this logic. The N takes are
N independent engine calls on single-take requests (candidates=1, their own seed), made one after another
in `_synthesize_all`: the one place a batching engine can run them together.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from .errors import StudioError
from .schema import MAX_SEED, SynthesisRequest, SynthesisResult
from .take_check import TakeChecker, TakeScore

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
               on_candidate: Callable[[int, int], None] | None = None) -> Takes:
    """One take (scored when `check`), or the best of `request.candidates` (always scored)."""
    count = request.candidates
    if count == 1 and not check:
        return Takes(engine.synthesize(request), [None])
    require_checker(checker, count)
    base = request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)
    requests = [request.model_copy(update={"seed": seed, "candidates": 1})
                for seed in candidate_seeds(base, count)]
    results = _synthesize_all(engine, requests, on_candidate)
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


def _synthesize_all(engine, requests: list[SynthesisRequest], on_candidate=None) -> list[SynthesisResult]:
    """Independent single takes, one after another (a batching engine could take them as one batch)."""
    results = []
    for i, request in enumerate(requests):
        if on_candidate is not None:
            on_candidate(i, len(requests))
        results.append(engine.synthesize(request))
    return results
