"""The documented `/synthesize` endpoint for gradio_client and HTTP callers.

Hidden components give it named, typed parameters; it shares scene composition and voice resolution
with the page, and every failure becomes a readable error message.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from inference.schema import MAX_CANDIDATES, MAX_TEXT_CHARS

from .errors import raise_readable
from .studio import Studio
from .voice import Voice, api_voice

API_DESCRIPTION = """Speak `text` and return a 24 kHz WAV file.

Parameters: `text` (required, at most {max_chars} characters; tags like [laugh] allowed), `reference_audio`
(optional file of the voice to clone), `reference_text` (its transcript), `scene` (free-text tone/scene),
`temperature`, `top_p`, `top_k`, `seed` (same seed + same inputs = same take), `max_new_tokens`
(25 per second of audio), `ras_win_len` / `ras_max_repeats` (repetition-aware sampling), and optionally `tone` ({tones}), `setting` ({settings}) and `voice`
(a preset voice: {voices}; or a voice description name or words, used when no reference is given),
`candidates` (1-{max_candidates}: makes that many takes with different seeds and returns the best-scored one).
Blank/omitted options take the model's defaults. Errors come back as a readable message.
`/synthesize_checked` takes the same parameters and also returns the take check as JSON (words right,
missed/added words, voice similarity, for every candidate with its seed). Every take is watermarked.

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


def wire_api(studio: Studio) -> None:
    """The documented endpoint for gradio_client. Hidden components give it named, typed parameters."""
    with gr.Column(visible=False):
        # No `precision` on whole-number fields: it would round 2.5 to 2 silently; validation refuses it instead.
        text = gr.Textbox(label="text")
        reference_audio = gr.File(label="reference_audio", type="filepath")
        reference_text = gr.Textbox(label="reference_text")
        scene = gr.Textbox(label="scene")
        temperature = _number("temperature")
        top_p = _number("top_p")
        top_k = _number("top_k")
        seed = _number("seed")
        max_new_tokens = _number("max_new_tokens")
        ras_win_len = _number("ras_win_len")
        ras_max_repeats = _number("ras_max_repeats")
        candidates = _number("candidates")
        tone = gr.Textbox(label="tone")
        setting = gr.Textbox(label="setting")
        voice = gr.Textbox(label="voice")
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        report = gr.JSON(label="take_check")
        trigger = gr.Button()
        trigger_checked = gr.Button()

    def make(check: bool, text: str, reference_audio: str | None, reference_text: str | None, scene: str | None,
             temperature: float | None, top_p: float | None, top_k: int | None, seed: int | None,
             max_new_tokens: int | None, tone: str | None, setting: str | None, voice: str | None,
             ras_win_len: int | None, ras_max_repeats: int | None, candidates: int | None):
        try:
            chosen = api_voice(voice, studio.voices, studio.presets)
            if reference_audio:
                chosen = Voice("reference", Path(reference_audio), (reference_text or "").strip() or None,
                               chosen.description)
            composed = studio.scene(chosen, tone, setting, scene)
            whole = {"top_k": top_k, "max_new_tokens": max_new_tokens, "ras_win_len": ras_win_len,
                     "ras_max_repeats": ras_max_repeats}
            if candidates is not None:
                whole["candidates"] = candidates
            request = studio.request(chosen, text or "", composed, _whole(seed), temperature=temperature,
                                     top_p=top_p, **{name: _whole(value) for name, value in whole.items()})
            return studio.synthesize_file(request, check=check)
        except Exception as err:  # noqa: BLE001
            raise_readable(err)

    def synthesize(text: str, reference_audio: str | None = None, reference_text: str | None = None,
                   scene: str | None = None, temperature: float | None = None, top_p: float | None = None,
                   top_k: int | None = None, seed: int | None = None, max_new_tokens: int | None = None,
                   tone: str | None = None, setting: str | None = None, voice: str | None = None,
                   ras_win_len: int | None = None, ras_max_repeats: int | None = None,
                   candidates: int | None = None) -> str:
        path, _ = make(False, text, reference_audio, reference_text, scene, temperature, top_p, top_k, seed,
                       max_new_tokens, tone, setting, voice, ras_win_len, ras_max_repeats, candidates)
        return str(path)

    def synthesize_checked(text: str, reference_audio: str | None = None, reference_text: str | None = None,
                           scene: str | None = None, temperature: float | None = None, top_p: float | None = None,
                           top_k: int | None = None, seed: int | None = None, max_new_tokens: int | None = None,
                           tone: str | None = None, setting: str | None = None, voice: str | None = None,
                           ras_win_len: int | None = None, ras_max_repeats: int | None = None,
                           candidates: int | None = None) -> tuple[str, dict]:
        path, takes = make(True, text, reference_audio, reference_text, scene, temperature, top_p, top_k, seed,
                           max_new_tokens, tone, setting, voice, ras_win_len, ras_max_repeats, candidates)
        return str(path), takes.report()

    description = API_DESCRIPTION.format(
        max_chars=MAX_TEXT_CHARS, max_candidates=MAX_CANDIDATES, tones=", ".join(studio.presets.tones) or "none",
        settings=", ".join(studio.presets.settings) or "none", voices=", ".join(studio.voices.names()) or "none")
    inputs = [text, reference_audio, reference_text, scene, temperature, top_p, top_k, seed, max_new_tokens, tone,
              setting, voice, ras_win_len, ras_max_repeats, candidates]
    trigger.click(synthesize, inputs, audio, api_name="synthesize", api_description=description)
    trigger_checked.click(synthesize_checked, inputs, [audio, report], api_name="synthesize_checked",
                          api_description=description)


def _whole(value: float | bool | None) -> int | float | bool | None:
    """gr.Number hands over floats; a whole number becomes an int, anything else (a fraction, true/false)
    is left as it came for validation to refuse."""
    if value is None or isinstance(value, bool) or not float(value).is_integer():
        return value
    return int(value)
