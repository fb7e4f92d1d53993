"""The Voice tab: one voice speaks a text. Clone-first: the reference clip comes first, and a clip present
means cloning it; without a clip, a smart, described or preset voice speaks. The layout; the callbacks and
their wiring are in ui/voice_events.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr

from inference.contract.request import FRAME_RATE, MAX_SEED, MAX_TEXT_CHARS, SamplingOptions
from inference.prompting.text import ALL_TAGS
from studio.service import Studio
from studio.voices import DESCRIBED, MODES, PRESET, SMART

from . import clip_events, my_voices, voice_events
from .take_report import TakeOptions, build_take_options

log = logging.getLogger(__name__)

CSS = """
#hvs-counter { text-align: right; opacity: .75; font-size: .9em; }
#hvs-counter .over { color: #d33; font-weight: 600; }
/* sound-effect tags: chips that keep their width and wrap onto the next line */
.hvs-tags { flex-wrap: wrap !important; gap: 6px !important; }
.hvs-tags > button { flex: 0 0 auto !important; width: auto !important; white-space: nowrap; padding: 2px 10px; }
#hvs-status, #hvs-voice-note { min-height: 1.5em; }
"""
SLIDER_LABELS = {
    "temperature": "Temperature", "top_p": "Top-p", "top_k": "Top-k",
    "max_new_tokens": "Max length (tokens; 25 = 1 s of audio)",
    "ras_win_len": "Repetition window", "ras_max_repeats": "Max repeats in the window",
}
NO_PRESET = "none"
NOISE_MAX_TOKENS = 100  # 4 s: a random-weight model never ends a take on its own


@dataclass
class Controls:
    """Every component a callback reads or writes, by name."""

    mode: gr.Radio
    description: gr.Dropdown
    preset: gr.Dropdown
    preset_preview: gr.Audio
    clip: gr.Audio
    clip_text: gr.Textbox
    consent: gr.Checkbox
    voices: my_voices.MyVoices
    voice_note: gr.Markdown
    tone: gr.Radio
    setting: gr.Radio
    scene_text: gr.Textbox
    text: gr.Textbox
    sampling: dict[str, gr.Slider]
    seed: gr.Number
    randomize: gr.Checkbox
    generate_btn: gr.Button
    stop_btn: gr.Button
    status: gr.Markdown
    live: gr.Audio
    output: gr.Audio
    info: gr.Markdown
    prompt_view: gr.Code
    history: gr.State
    players: list[gr.Audio]
    groups: dict[str, gr.Column]
    takes: TakeOptions  # best of N and the take check (ui/take_report.py)


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


def build_voice_tab(demo: gr.Blocks, studio: Studio, *, browser_secret: str | None = None) -> Controls:
    """The tab's components and events, built inside the caller's `gr.Tab`."""
    preset_voices = studio.voices.all()
    described = studio.presets.voices

    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### 1 · Voice")
            example_btn = gr.Button("▶ Try an example", size="sm", elem_id="hvs-example", visible=bool(preset_voices))
            voices = my_voices.build_picker(browser_secret)
            clip = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="hvs-clip", editable=True,
                            label="Voice to clone: upload or record 5-15 s of clear speech",
                            buttons=["download"],  # never "share": it would publish the visitor's voice
                            waveform_options=gr.WaveformOptions(show_recording_waveform=True))
            consent = gr.Checkbox(label="I have the right to use this voice (it is mine, or its speaker "
                                        "agreed to this use).", elem_id="hvs-consent")
            with gr.Row(equal_height=False):
                clip_text = gr.Textbox(label="What the clip says (transcript)", lines=2, max_lines=4, scale=4,
                                       placeholder=_transcript_hint(studio), elem_id="hvs-clip-text")
                transcribe_btn = gr.Button("Transcribe", size="sm", scale=1, min_width=90,
                                           visible=_can_transcribe(studio))
            my_voices.build_manager(voices)
            voice_note = gr.Markdown(voice_events.who_speaks(None, SMART, ""), elem_id="hvs-voice-note")
            mode = gr.Radio(list(MODES), value=SMART, label="No clip? Another voice", elem_id="hvs-mode",
                            info="Used when the clip box is empty. Smart voice: the model picks a voice that "
                                 "suits the text.")
            with gr.Column(visible=False) as described_col:
                description = gr.Dropdown(
                    [(v.label, v.name) for v in described.values()], value=next(iter(described), None),
                    allow_custom_value=True, label="Voice description",
                    info="Pick one or type your own, e.g. 'warm, low male voice, British accent'.")
            with gr.Column(visible=False) as preset_col:
                preset = gr.Dropdown([(v.label, v.name) for v in preset_voices],
                                     value=preset_voices[0].name if preset_voices else None, label="Preset voice")
                preset_preview = gr.Audio(
                    str(preset_voices[0].audio_path) if preset_voices else None, label="Preview",
                    interactive=False, buttons=[])

            gr.Markdown("### 2 · Tone")
            tone = gr.Radio([NO_PRESET, *studio.presets.tones], value=NO_PRESET, label="Tone")
            setting = gr.Radio([NO_PRESET, *studio.presets.settings], value=NO_PRESET, label="Setting")
            scene_text = gr.Textbox(label="Describe the tone or scene in your own words", lines=2,
                                    placeholder="e.g. Whispering, as if telling a secret.")

        with gr.Column(scale=3, min_width=320):
            gr.Markdown("### 3 · Text")
            with gr.Row(elem_classes="hvs-tags"):
                tag_buttons = [(gr.Button(tag, size="sm", min_width=0, scale=0), tag) for tag in ALL_TAGS]
            text = gr.Textbox(label="Text to speak", lines=7, max_lines=20, elem_id="hvs-text",
                              placeholder="Type what the voice should say. Tags like [laugh] add sound effects.")
            counter = gr.Markdown(f"0 / {MAX_TEXT_CHARS} characters", elem_id="hvs-counter")
            with gr.Row():
                generate_btn = gr.Button(voice_events.GENERATE, variant="primary", elem_id="hvs-generate", scale=3)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="hvs-stop", visible=False, scale=1, min_width=80)
            status = gr.Markdown(elem_id="hvs-status")
            live = gr.Audio(label="Live: plays while generating", streaming=True, autoplay=True,
                            interactive=False, elem_id="hvs-live", buttons=[])
            output = gr.Audio(label="Result", type="filepath", interactive=False, elem_id="hvs-output",
                              buttons=["download"], format="wav")
            info = gr.Markdown(elem_id="hvs-info")
            with gr.Accordion("Advanced", open=False):
                sampling = _sliders(studio.is_noise)
                with gr.Row():
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                    randomize = gr.Checkbox(True, label="New random seed each take")
                take_options = build_take_options(studio.checker)
            with gr.Accordion("What the model is given", open=False):
                prompt_view = gr.Code(label="Scene + text (press 'Show full prompt' for the rendered prompt)",
                                      language=None, lines=8, interactive=False, elem_id="hvs-prompt", wrap_lines=True)
                prompt_btn = gr.Button("Show full prompt", size="sm")
            with gr.Accordion("Your last takes (this visit only)", open=True):
                history = gr.State([])
                players = [gr.Audio(visible=False, interactive=False, type="filepath", buttons=["download"],
                                    elem_classes="hvs-history")
                           for _ in range(studio.history_size)]

    c = Controls(mode, description, preset, preset_preview, clip, clip_text, consent, voices, voice_note, tone,
                 setting, scene_text, text, sampling, seed, randomize, generate_btn, stop_btn, status, live, output,
                 info, prompt_view, history, players, {DESCRIBED: described_col, PRESET: preset_col}, take_options)
    last_text = gr.BrowserState("", storage_key="hvs-last-text", secret=browser_secret)  # kept over a reload
    clip_events.keep_text(demo, text, last_text)
    voice_events.wire(c, studio, tag_buttons=tag_buttons, counter=counter, prompt_btn=prompt_btn,
                      transcribe_btn=transcribe_btn, example_btn=example_btn)
    my_voices.wire(voices, demo, clip, clip_text, consent)
    return c


def _can_transcribe(studio: Studio) -> bool:
    return studio.transcriber is not None and studio.transcriber.enabled


def _transcript_hint(studio: Studio) -> str:
    if _can_transcribe(studio):
        return "Left empty, it is transcribed automatically."
    return "Transcription is turned off on this server: type what the clip says (the clone is closer with it)."
