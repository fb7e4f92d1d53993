"""The studio's one length rule: on the noise model a take whose caller gave no max_new_tokens is short."""

import contextlib
from types import SimpleNamespace

from inference.contract.errors import StudioError
from inference.contract.request import SamplingOptions, SynthesisRequest
from studio.lengths import NOISE_MAX_TOKENS, default_length
from studio.service import Studio

DEFAULT = SamplingOptions.model_fields["max_new_tokens"].default


def test_the_noise_model_gets_the_short_default_and_keeps_every_other_option():
    request = SynthesisRequest.parse(text="Hi.", temperature=0.5, seed=3)
    short = default_length(request, is_noise=True)
    assert short.sampling.max_new_tokens == NOISE_MAX_TOKENS == 100
    assert short.sampling.temperature == 0.5 and short.seed == 3 and short.text == request.text
    assert request.sampling.max_new_tokens == DEFAULT  # the caller's request is not changed


def test_a_length_the_caller_gave_is_kept_and_a_real_model_keeps_its_default():
    assert default_length(SynthesisRequest.parse(text="Hi.", max_new_tokens=DEFAULT), True).sampling.max_new_tokens \
        == DEFAULT
    assert default_length(SynthesisRequest.parse(text="Hi.", max_new_tokens=40), True).sampling.max_new_tokens == 40
    assert default_length(SynthesisRequest.parse(text="Hi."), False).sampling.max_new_tokens == DEFAULT


def test_every_take_path_of_the_studio_applies_the_rule():
    """generate, stream, make_takes and dialogue_file all reach the engine with the short default."""
    seen = []

    class Engine(SimpleNamespace):
        is_noise = True
        model_id = "tiny-random"

        def stream(self, request, cancel=None):
            seen.append(request.sampling.max_new_tokens)
            yield from ()

        def synthesize(self, request, cancel=None):
            seen.append(request.sampling.max_new_tokens)
            raise RuntimeError("enough")

    studio = Studio(Engine())
    request = SynthesisRequest.parse(text="Hi.")
    list(studio.stream(request))
    for call in (lambda: studio.make_takes(request), lambda: studio.dialogue_file(request),
                 lambda: list(studio.generate(request, "smart", None))):
        with contextlib.suppress(RuntimeError, StudioError):  # the fake engine ends each take once it is seen
            call()
    assert seen == [NOISE_MAX_TOKENS] * 4
