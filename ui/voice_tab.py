"""The Voice tab: one voice speaks a text. Clone-first: the reference clip comes first, and a clip present
means cloning it; without a clip, a smart, described or preset voice speaks. The layout; its
callbacks and event wiring are in ui/voice_events.py and ui/clip_events.py.

Callbacks take their inputs as one dict (Gradio passes a dict when `inputs` is a set) and return a
dict of the outputs they change, so no callback has a long positional signature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import gradio as gr

from inference.contract.request import MAX_TEXT_CHARS
from inference.prompting.text import ALL_TAGS
from studio.service import Studio
from studio.voices import SMART

from . import clip_events, edit_restore, my_voices, voice_events
from .sampling_panel import build_sampling
from .take_report import TakeOptions, build_take_options
from .voice_panel import build_other_voices, wire_preset_refresh

log = logging.getLogger(__name__)

NO_PRESET = "none"


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
    edit: gr.State | None = None  # the take in the "Edit this take" panel (ui/edit_take.py)


def build_voice_tab(demo: gr.Blocks, studio: Studio, *, browser_secret: str | None = None) -> Controls:
    """The tab's components and events, built inside the caller's `gr.Tab`."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### 1 · Voice")
            example_btn = gr.Button("▶ Try an example", size="sm", elem_id="hvs-example",
                                    visible=bool(studio.voices.all()))
            voices = my_voices.build_picker(browser_secret)
            clip = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="hvs-clip", editable=True,
                            label="Voice to clone: 5-15 s of clear speech", elem_classes="hvs-audio",
                            buttons=["download"],  # never "share": it would publish the visitor's voice
                            waveform_options=gr.WaveformOptions(show_recording_waveform=True))
            consent = gr.Checkbox(label="I have the right to use this voice (it is mine, or its speaker "
                                        "agreed to this use).", elem_id="hvs-consent")
            gr.Markdown(elem_id="hvs-consent-note")  # the consent reminder shows here, beside the box (page_js)
            with gr.Row(equal_height=False):
                clip_text = gr.Textbox(label="What the clip says (transcript)", lines=2, max_lines=4, scale=4,
                                       placeholder=_transcript_hint(studio), elem_id="hvs-clip-text")
                transcribe_btn = gr.Button("Transcribe", size="sm", scale=1, min_width=90,
                                           visible=_can_transcribe(studio))
            my_voices.build_manager(voices)
            voice_note = gr.Markdown(voice_events.who_speaks(None, SMART, ""), elem_id="hvs-voice-note")
            mode, description, preset, preset_preview, groups = build_other_voices(studio)

        with gr.Column(scale=3, min_width=320):
            gr.Markdown("### 2 · Text")
            text = gr.Textbox(label="Text to speak", lines=6, max_lines=20, elem_id="hvs-text",
                              placeholder="Type what the voice should say. Tags like [laugh] add sound effects.")
            # after the text (Tab reaches the text first), one row that scrolls sideways on a phone
            with gr.Row(elem_classes="hvs-tags", elem_id="hvs-tags"):
                tag_buttons = [(gr.Button(tag, size="sm", min_width=0, scale=0), tag) for tag in ALL_TAGS]
            counter = gr.Markdown(f"0 / {MAX_TEXT_CHARS} characters", elem_id="hvs-counter")
            with gr.Accordion("Tone and scene (optional)", open=False, elem_id="hvs-tone"):
                tone = gr.Radio([NO_PRESET, *studio.presets.tones], value=NO_PRESET, label="Tone")
                setting = gr.Radio([NO_PRESET, *studio.presets.settings], value=NO_PRESET, label="Setting")
                scene_text = gr.Textbox(label="Describe the tone or scene in your own words", lines=2,
                                        placeholder="e.g. Whispering, as if telling a secret.")
            with gr.Row(elem_id="hvs-actions"):  # sticky at the bottom of a phone's screen (ui/style.py)
                generate_btn = gr.Button(voice_events.GENERATE, variant="primary", elem_id="hvs-generate", scale=3)
                stop_btn = gr.Button("Stop", variant="stop", elem_id="hvs-stop", visible=False, scale=1, min_width=80)
            status = gr.Markdown(elem_id="hvs-status")
            # One player per take on screen: the live one while the take is made and heard, then (swapped by the
            # page script once the live one is not playing, ui/page_js.py) the finished take, labelled, to download.
            live = gr.Audio(label="Your take: plays while it is made", streaming=True, autoplay=True,
                            interactive=False, elem_id="hvs-live", buttons=[], elem_classes="hvs-audio")
            output = gr.Audio(label="Your take", type="filepath", interactive=False, elem_id="hvs-output",
                              buttons=["download"], format="wav", elem_classes="hvs-audio")
            info = gr.Markdown(elem_id="hvs-info")
            edit = edit_restore.voice_panel(studio, player=output, mode=mode, preset=preset, description=description,
                                            clip=clip)  # "Edit this take" (ui/edit_take.py)
            with gr.Accordion("Advanced", open=False):
                sampling, seed, randomize = build_sampling(studio.is_noise)
                take_options = build_take_options(studio.checker)
            with gr.Accordion("What the model is given", open=False):
                prompt_view = gr.Code(label="Scene + text (press 'Show full prompt' for the rendered prompt)",
                                      language=None, lines=8, interactive=False, elem_id="hvs-prompt", wrap_lines=True)
                prompt_btn = gr.Button("Show full prompt", size="sm")
            with gr.Accordion("Earlier takes (this visit only)", open=True, elem_id="hvs-earlier"):
                history = gr.State([])
                players = [gr.Audio(visible=False, interactive=False, type="filepath", buttons=["download"],
                                    elem_classes="hvs-history")
                           for _ in range(studio.history_size)]

    c = Controls(mode, description, preset, preset_preview, clip, clip_text, consent, voices, voice_note, tone,
                 setting, scene_text, text, sampling, seed, randomize, generate_btn, stop_btn, status, live, output,
                 info, prompt_view, history, players, groups, take_options, edit=edit.state)
    last_text = gr.BrowserState("", storage_key="hvs-last-text", secret=browser_secret)  # kept over a reload
    clip_events.keep_text(demo, text, last_text)
    voice_events.wire(c, studio, tag_buttons=tag_buttons, counter=counter, prompt_btn=prompt_btn,
                      transcribe_btn=transcribe_btn, example_btn=example_btn)
    my_voices.wire(voices, demo, clip, clip_text, consent)
    wire_preset_refresh(demo, studio, mode, preset)
    return c


def _can_transcribe(studio: Studio) -> bool:
    return studio.transcriber is not None and studio.transcriber.enabled


def _transcript_hint(studio: Studio) -> str:
    if _can_transcribe(studio):
        return "Left empty, it is transcribed automatically."
    return "Transcription is turned off on this server: type what the clip says (the clone is closer with it)."
