"""The Voice tab: one voice speaks a text. Clone-first: the reference clip comes first, and a clip present
means cloning it; without a clip, a smart, described or preset voice speaks. The layout; its
callbacks and event wiring are in ui/voice_events.py and ui/clip_events.py.

Callbacks take their inputs as one dict (Gradio passes a dict when `inputs` is a set) and return a
dict of the outputs they change, so no callback has a long positional signature.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace

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
    p = SimpleNamespace()  # the components, as the two columns build them
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            _voice_column(p, studio, browser_secret)
        with gr.Column(scale=3, min_width=320):
            _text_column(p, studio)
            _take_column_end(p, studio)

    c = Controls(p.mode, p.description, p.preset, p.preset_preview, p.clip, p.clip_text, p.consent, p.voices,
                 p.voice_note, p.tone, p.setting, p.scene_text, p.text, p.sampling, p.seed, p.randomize,
                 p.generate_btn, p.stop_btn, p.status, p.live, p.output, p.info, p.prompt_view, p.history, p.players,
                 p.groups, p.take_options, edit=p.edit.state)
    last_text = gr.BrowserState("", storage_key="hvs-last-text", secret=browser_secret)  # kept over a reload
    clip_events.keep_text(demo, p.text, last_text)
    voice_events.wire(c, studio, tag_buttons=p.tag_buttons, counter=p.counter, prompt_btn=p.prompt_btn,
                      transcribe_btn=p.transcribe_btn, example_btn=p.example_btn)
    my_voices.wire(p.voices, demo, p.clip, p.clip_text, p.consent)
    wire_preset_refresh(demo, studio, p.mode, p.preset)
    return c


def _voice_column(p: SimpleNamespace, studio: Studio, browser_secret: str | None) -> None:
    """1 · Voice: an example, the saved voices, the clip to clone with its consent and transcript, the other voices."""
    gr.Markdown("### 1 · Voice")
    p.example_btn = gr.Button("▶ Try an example", size="sm", elem_id="hvs-example",
                              visible=bool(studio.voices.all()))
    p.voices = my_voices.build_picker(browser_secret)
    p.clip = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="hvs-clip", editable=True,
                      label="Voice to clone: 5-15 s of clear speech", elem_classes="hvs-audio",
                      buttons=["download"],  # never "share": it would publish the visitor's voice
                      waveform_options=gr.WaveformOptions(show_recording_waveform=True))
    p.consent = gr.Checkbox(label="I have the right to use this voice (it is mine, or its speaker "
                                  "agreed to this use).", elem_id="hvs-consent")
    gr.Markdown(elem_id="hvs-consent-note")  # the consent reminder shows here, beside the box (page_js)
    with gr.Row(equal_height=False):
        p.clip_text = gr.Textbox(label="What the clip says (transcript)", lines=2, max_lines=4, scale=4,
                                 placeholder=_transcript_hint(studio), elem_id="hvs-clip-text")
        p.transcribe_btn = gr.Button("Transcribe", size="sm", scale=1, min_width=90,
                                     visible=_can_transcribe(studio))
    my_voices.build_manager(p.voices)
    p.voice_note = gr.Markdown(voice_events.who_speaks(None, SMART, ""), elem_id="hvs-voice-note")
    p.mode, p.description, p.preset, p.preset_preview, p.groups = build_other_voices(studio)


def _text_column(p: SimpleNamespace, studio: Studio) -> None:
    """2 · Text: the text with its tags and counter, tone and scene, Generate and Stop, the take's players."""
    gr.Markdown("### 2 · Text")
    p.text = gr.Textbox(label="Text to speak", lines=6, max_lines=20, elem_id="hvs-text",
                        placeholder="Type what the voice should say. Tags like [laugh] add sound effects.")
    # after the text (Tab reaches the text first), one row that scrolls sideways on a phone
    with gr.Row(elem_classes="hvs-tags", elem_id="hvs-tags"):
        p.tag_buttons = [(gr.Button(tag, size="sm", min_width=0, scale=0), tag) for tag in ALL_TAGS]
    p.counter = gr.Markdown(f"0 / {MAX_TEXT_CHARS} characters", elem_id="hvs-counter")
    with gr.Accordion("Tone and scene (optional)", open=False, elem_id="hvs-tone"):
        p.tone = gr.Radio([NO_PRESET, *studio.presets.tones], value=NO_PRESET, label="Tone")
        p.setting = gr.Radio([NO_PRESET, *studio.presets.settings], value=NO_PRESET, label="Setting")
        p.scene_text = gr.Textbox(label="Describe the tone or scene in your own words", lines=2,
                                  placeholder="e.g. Whispering, as if telling a secret.")
    with gr.Row(elem_id="hvs-actions"):  # sticky at the bottom of a phone's screen (ui/style.py)
        p.generate_btn = gr.Button(voice_events.GENERATE, variant="primary", elem_id="hvs-generate", scale=3)
        p.stop_btn = gr.Button("Stop", variant="stop", elem_id="hvs-stop", visible=False, scale=1, min_width=80)
    p.status = gr.Markdown(elem_id="hvs-status")
    # One player per take on screen: the live one while the take is made and heard, then (swapped by the
    # page script once the live one is not playing, ui/page_js.py) the finished take, labelled, to download.
    p.live = gr.Audio(label="Your take: plays while it is made", streaming=True, autoplay=True,
                      interactive=False, elem_id="hvs-live", buttons=[], elem_classes="hvs-audio")
    p.output = gr.Audio(label="Your take", type="filepath", interactive=False, elem_id="hvs-output",
                        buttons=["download"], format="wav", elem_classes="hvs-audio")
    p.info = gr.Markdown(elem_id="hvs-info")
    p.edit = edit_restore.voice_panel(studio, player=p.output, mode=p.mode, preset=p.preset,
                                      description=p.description, clip=p.clip)  # "Edit this take" (ui/edit_take.py)


def _take_column_end(p: SimpleNamespace, studio: Studio) -> None:
    """Under the take: Advanced (sampling, best of N, the check), the prompt given, the earlier takes."""
    with gr.Accordion("Advanced", open=False):
        p.sampling, p.seed, p.randomize = build_sampling(studio.is_noise)
        p.take_options = build_take_options(studio.checker)
    with gr.Accordion("What the model is given", open=False):
        p.prompt_view = gr.Code(label="Scene + text (press 'Show full prompt' for the rendered prompt)",
                                language=None, lines=8, interactive=False, elem_id="hvs-prompt", wrap_lines=True)
        p.prompt_btn = gr.Button("Show full prompt", size="sm")
    with gr.Accordion("Earlier takes (this visit only)", open=True, elem_id="hvs-earlier"):
        p.history = gr.State([])
        p.players = [gr.Audio(visible=False, interactive=False, type="filepath", buttons=["download"],
                              elem_classes="hvs-history")
                     for _ in range(studio.history_size)]


def _can_transcribe(studio: Studio) -> bool:
    return studio.transcriber is not None and studio.transcriber.enabled


def _transcript_hint(studio: Studio) -> str:
    if _can_transcribe(studio):
        return "Left empty, it is transcribed automatically."
    return "Transcription is turned off on this server: type what the clip says (the clone is closer with it)."
