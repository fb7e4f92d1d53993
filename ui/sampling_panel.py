"""The Voice tab's sampling controls (inside its *Advanced* accordion): sliders whose ranges and defaults come
straight from the request schema, and the seed with its *randomize* toggle. Layout only."""

from __future__ import annotations

import gradio as gr

from inference.contract.request import FRAME_RATE, MAX_SEED, SamplingOptions
from studio.lengths import NOISE_MAX_TOKENS

SLIDER_LABELS = {
    "temperature": "Temperature", "top_p": "Top-p", "top_k": "Top-k",
    "max_new_tokens": "Max length (tokens; 25 = 1 s of audio)",
    "ras_win_len": "Repetition window", "ras_max_repeats": "Max repeats in the window",
}


def _slider(name: str, default=None, info: str | None = None) -> gr.Slider:
    """Range and default straight from the request schema, never re-typed here."""
    spec = SamplingOptions.model_fields[name]
    bounds = {key: getattr(m, key) for m in spec.metadata for key in ("ge", "gt", "le") if hasattr(m, key)}
    step = 0.05 if spec.annotation is float else 1
    low = bounds["ge"] if "ge" in bounds else bounds.get("gt", 0) + step
    return gr.Slider(low, bounds["le"], value=spec.default if default is None else default, step=step,
                     label=SLIDER_LABELS.get(name, name), info=info or spec.description)


def _sliders(is_noise: bool) -> dict[str, gr.Slider]:
    short = {"max_new_tokens": (NOISE_MAX_TOKENS, f"Kept to {NOISE_MAX_TOKENS / FRAME_RATE:.0f} s here: the test "
                                                  "model's random weights never end a take on their own.")}
    return {name: _slider(name, *(short.get(name, ()) if is_noise else ())) for name in SamplingOptions.model_fields}


def build_sampling(is_noise: bool) -> tuple[dict[str, gr.Slider], gr.Number, gr.Checkbox]:
    sampling = _sliders(is_noise)
    with gr.Row():
        seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
        randomize = gr.Checkbox(True, label="New random seed each take")
    return sampling, seed, randomize
