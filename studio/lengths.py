"""The one rule for a take's length when the caller gave none.

A random-weight test model (`tiny-random`) never ends a take on its own: every take runs to max_new_tokens,
and the model's default (2048 tokens) is 82 s of noise. On such a model a request that gave no
max_new_tokens gets NOISE_MAX_TOKENS instead, at every door (the page's sliders start at the same number);
a length the caller gave is always kept. A real model keeps its own default.
"""

from __future__ import annotations

from inference.contract.request import SynthesisRequest

NOISE_MAX_TOKENS = 100  # 4 s: a random-weight model never ends a take on its own


def default_length(request: SynthesisRequest, is_noise: bool) -> SynthesisRequest:
    """`request`, with max_new_tokens=NOISE_MAX_TOKENS when the engine is the noise model and the caller
    gave no length."""
    if not is_noise or "max_new_tokens" in request.sampling.model_fields_set:
        return request
    sampling = request.sampling.model_copy(update={"max_new_tokens": NOISE_MAX_TOKENS})
    return request.model_copy(update={"sampling": sampling})
