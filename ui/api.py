"""The documented `/synthesize` endpoint for gradio_client and HTTP callers.

Hidden components give it named, typed parameters; it shares scene composition and voice resolution
with the page, and every failure becomes a readable error message.
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from inference.errors import InvalidRequest
from inference.schema import DEFAULT_PAUSE_S, MAX_TEXT_CHARS
from inference.script import MAX_SPEAKERS

from . import dialogue
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
        tone = gr.Textbox(label="tone")
        setting = gr.Textbox(label="setting")
        voice = gr.Textbox(label="voice")
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        trigger = gr.Button()

    def synthesize(text: str, reference_audio: str | None = None, reference_text: str | None = None,
                   scene: str | None = None, temperature: float | None = None, top_p: float | None = None,
                   top_k: int | None = None, seed: int | None = None, max_new_tokens: int | None = None,
                   tone: str | None = None, setting: str | None = None, voice: str | None = None,
                   ras_win_len: int | None = None, ras_max_repeats: int | None = None) -> str:
        try:
            chosen = api_voice(voice, studio.voices, studio.presets)
            if reference_audio:
                chosen = Voice("reference", Path(reference_audio), (reference_text or "").strip() or None,
                               chosen.description)
            composed = studio.scene(chosen, tone, setting, scene)
            whole = {"top_k": top_k, "max_new_tokens": max_new_tokens, "ras_win_len": ras_win_len,
                     "ras_max_repeats": ras_max_repeats}
            request = studio.request(chosen, text or "", composed, _whole(seed), temperature=temperature,
                                     top_p=top_p, **{name: _whole(value) for name, value in whole.items()})
            path, _ = studio.synthesize_file(request)
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


DIALOGUE_DESCRIPTION = """Speak a dialogue `script` and return (24 kHz WAV, WebVTT subtitles, SRT subtitles).

`script`: one line per turn, `Alice: Hello.` or `[SPEAKER0] Hello.`; a line without a name continues the turn;
at most {max_speakers} speakers and {max_chars} characters. `speakers` (optional, JSON object): speaker name ->
a preset voice ({voices}), words describing a voice, "" for a smart voice, or {{"clip": i, "reference_text":
"..."}} for the i-th file of `clips`. Speakers left out get a smart voice. Also `scene`, `tone` ({tones}),
`setting` ({settings}), `pause_s` (seconds between turns, default {pause}), `voice_layout` (scene = official,
separate = only the speaking voice in each turn's prompt), `seed`, `temperature`, `top_p`, `top_k`,
`max_new_tokens` (per turn). By sending clips you confirm you have the right to use those voices."""


def wire_dialogue_api(studio: Studio) -> None:
    """`/dialogue` for gradio_client: the Dialogue tab's take from named parameters."""
    with gr.Column(visible=False):
        script = gr.Textbox(label="script")
        speakers = gr.Textbox(label="speakers")
        clips = gr.File(label="clips", file_count="multiple", type="filepath")
        scene, tone, setting = gr.Textbox(label="scene"), gr.Textbox(label="tone"), gr.Textbox(label="setting")
        voice_layout = gr.Textbox(label="voice_layout")
        numbers = [_number(name) for name in ("pause_s", "seed", "temperature", "top_p", "top_k", "max_new_tokens")]
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        vtt, srt = gr.File(label="vtt"), gr.File(label="srt")
        trigger = gr.Button()

    def speak(script: str, speakers: str | None = None, clips: list[str] | None = None, scene: str | None = None,
              tone: str | None = None, setting: str | None = None, voice_layout: str | None = None,
              pause_s: float | None = None, seed: int | None = None, temperature: float | None = None,
              top_p: float | None = None, top_k: int | None = None, max_new_tokens: int | None = None
              ) -> tuple[str, str, str]:
        try:
            try:
                given = json.loads(speakers) if speakers and speakers.strip() else {}
            except json.JSONDecodeError as err:
                raise InvalidRequest(f"speakers is not valid JSON ({err.msg} at character {err.pos}).") from None
            if not isinstance(given, dict):
                raise InvalidRequest('speakers must be a JSON object, e.g. {"Alice": "robot_en", "Bob": "calm voice"}.')
            voices = dialogue.api_speakers(studio, given, clips)
            request = dialogue.dialogue_request(
                studio, script or "", voices, tone=tone, setting=setting, scene=scene, seed=_whole(seed),
                pause_s=pause_s, voice_layout=(voice_layout or "").strip() or None, temperature=temperature,
                top_p=top_p, top_k=_whole(top_k), max_new_tokens=_whole(max_new_tokens))
            take = dialogue.save_take(studio, studio.engine.synthesize(request), stem="api-dialogue")
        except Exception as err:  # noqa: BLE001
            raise_readable(err)
        return str(take.path), *take.subtitle_files

    description = DIALOGUE_DESCRIPTION.format(
        max_speakers=MAX_SPEAKERS, max_chars=MAX_TEXT_CHARS, voices=", ".join(studio.voices.names()) or "none",
        tones=", ".join(studio.presets.tones) or "none", settings=", ".join(studio.presets.settings) or "none",
        pause=DEFAULT_PAUSE_S)
    trigger.click(speak, [script, speakers, clips, scene, tone, setting, voice_layout, *numbers], [audio, vtt, srt],
                  api_name="dialogue", api_description=description)
