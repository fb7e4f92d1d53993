"""Higgs Voice Studio's engine: one typed request in, audio out. Knows torch, not Gradio or HTTP.

    contract/    the request, the result, the engine interface and the errors every layer above shares
    generation/  the batcher and its decode loop: sampling, batch-invariant steps
    prompting/   text normalization, long-form split, dialogue scripts, the chat prompt
    audio/       audio files in and out, reference clips, seams, subtitles, the watermark
    model/       loading the checkpoint (and building the tiny test one), ZeroGPU
    scoring/     the take check's models: Whisper transcripts, speaker similarity

Names are imported lazily so that light modules (the contract) can be used without importing torch,
e.g. by the UI layer.
"""

from importlib import import_module

_EXPORTS = {
    "Engine": "engine", "StreamChunk": "contract.result",
    "Cancelled": "contract.errors", "InvalidAudio": "contract.errors", "InvalidRequest": "contract.errors",
    "ModelLoadError": "contract.errors", "StudioError": "contract.errors",
    "DEFAULT_MODEL_ID": "model.loading",
    "SAMPLE_RATE": "contract.request", "SamplingOptions": "contract.request", "SynthesisRequest": "contract.request",
    "SynthesisResult": "contract.result", "Timings": "contract.result",
    "TINY_MODEL_ID": "contract.engine",
    "detect": "audio.watermark",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'inference' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
