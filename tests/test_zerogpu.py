"""ZeroGPU wrapping is a no-op outside a ZeroGPU Space: the wrapped engine still speaks."""

import numpy as np

from inference import SynthesisRequest
from inference.model.zerogpu import attach_gpu_on_demand


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


def test_zerogpu_is_read_from_the_space_environment():
    from settings import Settings

    assert not Settings.from_env({}).spaces_zero_gpu
    assert Settings.from_env({"SPACES_ZERO_GPU": "true"}).spaces_zero_gpu and \
        Settings.from_env({"SPACES_ZERO_GPU": "1"}).spaces_zero_gpu


def test_on_zerogpu_the_studio_does_not_hand_the_engine_a_cancel_event():
    """ZeroGPU runs the take in another process, which a threading.Event cannot reach."""
    import contextlib
    import threading

    from inference.contract.errors import StudioError
    from studio.service import Studio

    class Recorder:
        model_id, is_noise = "m", False

        def __init__(self):
            self.kwargs = []

        def stream(self, request, **kwargs):
            self.kwargs.append(kwargs)
            yield from ()

    request = SynthesisRequest.parse(text="Hi.", max_new_tokens=20)
    for zerogpu, expected in ((False, {"cancel"}), (True, set())):
        engine = Recorder()
        with contextlib.suppress(StudioError):  # the recorder makes no audio: "no take" is fine here
            list(Studio(engine, zerogpu=zerogpu).generate(request, "voice", [], cancel=threading.Event()))
        assert set(engine.kwargs[0]) == expected


def test_health_is_ok_without_warm_up_only_where_warm_up_is_skipped():
    import app

    class Cold:  # a loaded engine that has not run its warm-up take
        def status(self):
            return {"model": "m", "device": "cuda", "dtype": "bfloat16", "loaded": True, "warmed": False}

    def health(needs_warm_up):
        return app.health_route(Cold(), demo=None, queue_size=4, needs_warm_up=needs_warm_up).endpoint()["status"]

    assert health(needs_warm_up=True) == "starting"
    assert health(needs_warm_up=False) == "ok"
