"""The documented `/synthesize` endpoint for gradio_client and HTTP callers.

Hidden components give it named, typed parameters; it shares scene composition and voice resolution
with the page, and every failure becomes a readable error message.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from inference.schema import MAX_TEXT_CHARS, optional_text

from .abandon import run_while_caller_waits
from .errors import raise_readable
from .studio import Studio
from .voice import Voice, api_voice

API_DESCRIPTION = """Speak `text` and return a 24 kHz WAV file.

Parameters: `text` (required, at most {max_chars} characters; tags like [laugh] allowed), `reference_audio`
(optional file of the voice to clone), `reference_text` (its transcript), `scene` (free-text tone/scene),
`temperature`, `top_p`, `top_k`, `seed` (same seed + same inputs = same take), `max_new_tokens`
(25 per second of audio), `ras_win_len` / `ras_max_repeats` (repetition-aware sampling), and optionally `tone` ({tones}), `setting` ({settings}) and `voice`
(a preset voice: {voices}; or a voice description name or words, used when no reference is given).
Blank/omitted options take the model's defaults. Errors come back as a readable message.

By calling this endpoint with a reference clip you confirm you have the right to use that voice
(the same terms the page asks visitors to accept)."""


def _number(name: str) -> gr.Number:
    """A hidden API number that hands JSON's true/false on unchanged (gr.Number would read true as 1), so
    that request validation refuses them as it does at every front door.
    (Patched on the instance: a gr.Number subclass would make Gradio write a .pyi stub into ui/.)"""
    number = gr.Number(None, label=name)
    plain = number.preprocess
    number.preprocess = lambda payload: payload if isinstance(payload, bool) else plain(payload)
    return number


def _text(name: str) -> gr.Textbox:
    """A hidden API text field that hands a number or a list on unchanged (gr.Textbox would make 123 the
    text "123"), so that request validation refuses it as the worker does."""
    box = gr.Textbox(label=name)
    plain = box.preprocess
    box.preprocess = lambda payload: plain(payload) if payload is None or isinstance(payload, str) else payload
    return box


def wire_api(studio: Studio) -> None:
    """The documented endpoint for gradio_client. Hidden components give it named, typed parameters."""
    with gr.Column(visible=False):
        # No `precision` on whole-number fields: it would round 2.5 to 2 silently; validation refuses it instead.
        text = _text("text")
        reference_audio = gr.File(label="reference_audio", type="filepath")
        reference_text = _text("reference_text")
        scene = _text("scene")
        temperature = _number("temperature")
        top_p = _number("top_p")
        top_k = _number("top_k")
        seed = _number("seed")
        max_new_tokens = _number("max_new_tokens")
        ras_win_len = _number("ras_win_len")
        ras_max_repeats = _number("ras_max_repeats")
        tone = _text("tone")
        setting = _text("setting")
        voice = _text("voice")
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        trigger = gr.Button()

    async def synthesize(text: str, reference_audio: str | None = None, reference_text: str | None = None,
                   scene: str | None = None, temperature: float | None = None, top_p: float | None = None,
                   top_k: int | None = None, seed: int | None = None, max_new_tokens: int | None = None,
                   tone: str | None = None, setting: str | None = None, voice: str | None = None,
                   ras_win_len: int | None = None, ras_max_repeats: int | None = None) -> str:
        try:
            for name, value in (("reference_text", reference_text), ("scene", scene), ("tone", tone),
                                ("setting", setting), ("voice", voice)):
                optional_text(name, value)
            chosen = api_voice(voice, studio.voices, studio.presets)
            if reference_audio:
                chosen = Voice("reference", Path(reference_audio), (reference_text or "").strip() or None,
                               chosen.description)
            composed = studio.scene(chosen, tone, setting, scene)
            whole = {"top_k": top_k, "max_new_tokens": max_new_tokens, "ras_win_len": ras_win_len,
                     "ras_max_repeats": ras_max_repeats}
            request = studio.request(chosen, "" if text is None else text, composed, _whole(seed), temperature=temperature,
                                     top_p=top_p, **{name: _whole(value) for name, value in whole.items()})
            path, _ = await run_while_caller_waits(lambda cancel: studio.synthesize_file(request, cancel))
        except Exception as err:  # noqa: BLE001
            raise_readable(err)
        return str(path)

    description = API_DESCRIPTION.format(
        max_chars=MAX_TEXT_CHARS, tones=", ".join(studio.presets.tones) or "none",
        settings=", ".join(studio.presets.settings) or "none", voices=", ".join(studio.voices.names()) or "none")
    trigger.click(synthesize, [text, reference_audio, reference_text, scene, temperature, top_p, top_k, seed,
                               max_new_tokens, tone, setting, voice, ras_win_len, ras_max_repeats], audio,
                  api_name="synthesize", api_description=description)


def _whole(value: float | bool | None) -> int | float | bool | None:
    """gr.Number hands over floats; a whole number becomes an int, anything else (a fraction, true/false)
    is left as it came for validation to refuse."""
    if value is None or isinstance(value, bool) or not float(value).is_integer():
        return value
    return int(value)
