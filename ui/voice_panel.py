"""The page's voice panel (a clip box, then Smart voice / Describe a voice / Preset voice) as a VoiceSpec for
the studio's one voice resolver (studio/voices.py), and the layout of its no-clip choices. Only the panel's own
words live here."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from inference.contract.errors import InvalidRequest
from studio.service import Studio
from studio.voices import CLONE, DESCRIBED, MODES, PRESET, SMART, Voice, VoiceResolver, VoiceSpec


def pick_voice(resolver: VoiceResolver, mode: str | None, *, description: str | None = None,
               preset: str | None = None, clip: str | Path | None = None, clip_text: str | None = None,
               clip_name: str | None = None) -> Voice:
    """A clip present means cloning it, whatever the mode; `clip_name` (a saved voice's name) labels the take.
    Raises InvalidRequest when the panel is incomplete."""
    if clip:
        return resolver.resolve(VoiceSpec(clip=clip, clip_text=clip_text, label=clip_name))
    mode = mode or SMART
    if mode == SMART:
        return resolver.resolve(None)
    if mode == DESCRIBED:
        if not (description or "").strip():
            raise InvalidRequest("Describe the voice (or pick a description), or choose Smart voice.")
        return resolver.resolve(VoiceSpec(description=description))
    if mode == PRESET:
        if not preset:
            raise InvalidRequest("Pick a preset voice, or choose Smart voice.")
        return resolver.resolve(VoiceSpec(name=preset))
    if mode == CLONE:
        raise InvalidRequest("Record or upload a clip of the voice to clone (5-15 s of clear speech works best).")
    raise InvalidRequest(f"Unknown voice choice {mode!r} (choose one of: {', '.join(MODES)}).")


def preset_choices(studio: Studio) -> list[tuple[str, str]]:
    """The preset voices, then the trained ones (voices.md: serving), as the folder holds them now."""
    return [(v.label, v.name) for v in studio.voices.all()] + \
        [(f"{v.label} (trained)", v.name) for v in studio.resolver.trained]


def wire_preset_refresh(demo: gr.Blocks, studio: Studio, mode: gr.Radio, preset: gr.Dropdown) -> None:
    """A voice trained while the studio runs (the Train tab, the CLI) joins the picker on the next page load or
    the next time the preset voices are shown, without a restart."""
    def refresh(chosen: str | None) -> gr.Dropdown:
        return gr.Dropdown(choices=preset_choices(studio), value=chosen)

    demo.load(refresh, preset, preset, queue=False, show_progress="hidden", api_visibility="private")
    mode.input(lambda m, chosen: refresh(chosen) if m == PRESET else gr.skip(), [mode, preset], preset,
               queue=False, show_progress="hidden", api_visibility="private")


def build_other_voices(studio: Studio) -> tuple[gr.Radio, gr.Dropdown, gr.Dropdown, gr.Audio, dict[str, gr.Column]]:
    """*No clip? Another voice*: the mode, and the described / preset voice pickers shown for their mode."""
    preset_voices = studio.voices.all()
    described = studio.presets.voices
    mode = gr.Radio(list(MODES), value=SMART, label="No clip? Another voice", elem_id="hvs-mode",
                    info="Used when the clip box is empty.")
    with gr.Column(visible=False) as described_col:
        description = gr.Dropdown(
            [(v.label, v.name) for v in described.values()], value=next(iter(described), None),
            allow_custom_value=True, label="Voice description",
            info="Pick one or type your own, e.g. 'warm, low male voice, British accent'.")
    with gr.Column(visible=False) as preset_col:
        preset = gr.Dropdown(preset_choices(studio),
                             value=preset_voices[0].name if preset_voices else None, label="Preset voice")
        preset_preview = gr.Audio(
            str(preset_voices[0].audio_path) if preset_voices else None, label="Preview",
            interactive=False, buttons=[])
    return mode, description, preset, preset_preview, {DESCRIBED: described_col, PRESET: preset_col}
