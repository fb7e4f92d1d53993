"""ZeroGPU wrapping is a no-op outside a ZeroGPU Space: the wrapped engine still speaks."""

import numpy as np

from inference import SynthesisRequest
from inference.zerogpu import attach_gpu_on_demand


def test_wrapped_engine_behaves_the_same_off_zerogpu(engine, monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    request = SynthesisRequest.parse(text="Hi there.", max_new_tokens=20, seed=4)
    expected = engine.synthesize(request).waveform
    wrapped = attach_gpu_on_demand(engine)
    try:
        assert np.array_equal(wrapped.synthesize(request).waveform, expected)
        chunks = list(wrapped.stream(request))
        assert np.array_equal(chunks[-1].result.waveform, expected)
    finally:  # the engine fixture is shared: drop the instance attributes again
        vars(engine).pop("synthesize", None)
        vars(engine).pop("stream", None)
