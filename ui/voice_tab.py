"""The Voice tab: one voice speaks a text. Clone-first: the reference clip comes first, and a clip present
means cloning it; without a clip, a smart, described or preset voice speaks. Layout and event wiring.

Callbacks take their inputs as one dict (Gradio passes a dict when `inputs` is a set) and return a
dict of the outputs they change, so no callback has a long positional signature.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import gradio as gr

from inference.contract.errors import StudioError
from inference.contract.request import FRAME_RATE, MAX_SEED, MAX_TEXT_CHARS, SamplingOptions
from inference.prompting.text import ALL_TAGS
from studio.lengths import NOISE_MAX_TOKENS
from studio.service import Stopped, Studio, is_user_error, timing_line
from studio.voices import DESCRIBED, MODES, PRESET, SMART, Voice, VoiceSpec

from . import my_voices
from .errors import problem_line, readable
from .take_report import TakeOptions, build_take_options, report_markdown
from .voice_panel import pick_voice

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
GENERATE, GENERATING = "Generate", "Generating…"


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


def _insert_tag_js(tag: str) -> str:
    """Insert a tag at the text box's cursor (client side only), then put the cursor after it."""
    return f"""(text) => {{
      const tag = {json.dumps(tag)};
      const ta = document.querySelector('#hvs-text textarea');
      const value = text || '';
      const s = ta ? ta.selectionStart : value.length, e = ta ? ta.selectionEnd : value.length;
      const before = value.slice(0, s), after = value.slice(e);
      const left = before && !/\\s$/.test(before) ? ' ' : '';
      const right = after && !/^\\s/.test(after) ? ' ' : '';
      const pos = (before + left + tag + right).length;
      if (ta) setTimeout(() => {{ ta.focus(); ta.setSelectionRange(pos, pos); }}, 60);
      return before + left + tag + right + after;
    }}"""


COUNTER_JS = f"""(text) => {{
  const n = [...(text || '')].length, limit = {MAX_TEXT_CHARS};  // characters as Python counts them, not UTF-16 units
  return n > limit ? `<span class="over">${{n}} / ${{limit}} characters: too long</span>` : `${{n}} / ${{limit}} characters`;
}}"""


def build_voice_tab(demo: gr.Blocks, studio: Studio, *, browser_secret: str | None = None) -> Controls:
    """The tab's components and events, built inside the caller's `gr.Tab`."""
    preset_voices = studio.voices.all()
    described = studio.presets.voices

    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=320):
            gr.Markdown("### 1 · Voice")
            voices = my_voices.build_picker(browser_secret)
            clip = gr.Audio(sources=["upload", "microphone"], type="filepath", elem_id="hvs-clip", editable=True,
                            label="Voice to clone: upload or record 5-15 s of clear speech",
                            buttons=["download"],  # never "share": it would publish the visitor's voice
                            waveform_options=gr.WaveformOptions(show_recording_waveform=True))
            consent = gr.Checkbox(label="I have the right to use this voice (it is mine, or its speaker "
                                        "agreed to this use).", elem_id="hvs-consent")
            with gr.Row(equal_height=False):
                clip_text = gr.Textbox(label="What the clip says (transcript)", lines=2, max_lines=4, scale=4,
                                       placeholder="Left empty, it is transcribed automatically.",
                                       elem_id="hvs-clip-text")
                transcribe_btn = gr.Button("Transcribe", size="sm", scale=1, min_width=90)
            my_voices.build_manager(voices)
            voice_note = gr.Markdown(_who_speaks(None, SMART, ""), elem_id="hvs-voice-note")
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
                generate_btn = gr.Button(GENERATE, variant="primary", elem_id="hvs-generate", scale=3)
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
    _wire_page(c, studio, tag_buttons, counter)
    _wire_generation(c, studio, prompt_btn)
    _wire_transcribe(c, studio, transcribe_btn)
    my_voices.wire(voices, demo, clip, clip_text, consent)
    return c


# ---- wiring ----------------------------------------------------------------------------------
PRIVATE = {"api_visibility": "private"}
QUICK = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}


def _who_speaks(clip: str | None, mode: str | None, name: str | None) -> str:
    if clip:
        return f"**Cloning {name or 'your clip'}.** Remove the clip (×) to use another voice."
    return f"**{mode or SMART}** speaks. Upload or record a clip above to clone a voice."


def _wire_page(c: Controls, studio: Studio, tag_buttons: list, counter: gr.Markdown) -> None:
    for button, tag in tag_buttons:
        button.click(None, inputs=c.text, outputs=c.text, js=_insert_tag_js(tag), **PRIVATE)
    c.text.change(None, inputs=c.text, outputs=counter, js=COUNTER_JS, **PRIVATE)

    def show_mode(v: dict) -> dict:
        return {c.voice_note: _who_speaks(v[c.clip], v[c.mode], v[c.voices.loaded]),
                **{col: gr.Column(visible=v[c.mode] == name) for name, col in c.groups.items()}}

    for component in (c.mode, c.clip, c.voices.loaded):
        component.change(show_mode, {c.clip, c.mode, c.voices.loaded}, {c.voice_note, *c.groups.values()}, **QUICK)

    def preview(name: str | None):
        try:
            return str(studio.voices.get(name).audio_path) if name else None
        except StudioError:
            return None

    c.preset.change(preview, c.preset, c.preset_preview, **QUICK)

    scene_inputs = {c.clip, c.mode, c.description, c.tone, c.setting, c.scene_text, c.text}

    def show_scene(v: dict) -> str:
        """The scene turn and text as they will be sent (client-light preview, no model needed)."""
        try:
            voice = studio.voice(VoiceSpec(description=v[c.description])
                                 if v[c.mode] == DESCRIBED and not v[c.clip] else None)
            scene = studio.scene(voice, v[c.tone], v[c.setting], v[c.scene_text])
        except StudioError as err:
            return f"(not valid yet: {readable(err)})"
        return f"[scene]\n{scene or '(none)'}\n\n[text]\n{v[c.text] or ''}"

    for component in scene_inputs:
        component.change(show_scene, scene_inputs, c.prompt_view, **QUICK)


def _voice_of(c: Controls, studio: Studio, v: dict) -> Voice:
    return pick_voice(studio.resolver, v[c.mode], description=v[c.description], preset=v[c.preset], clip=v[c.clip],
                      clip_text=v[c.clip_text], clip_name=v[c.voices.loaded])


def _request_of(c: Controls, studio: Studio, v: dict, voice: Voice):
    seed = None if v[c.randomize] or v[c.seed] is None else int(v[c.seed])
    sampling = {name: v[slider] for name, slider in c.sampling.items()}
    scene = studio.scene(voice, v[c.tone], v[c.setting], v[c.scene_text])
    return studio.request(voice, v[c.text] or "", scene, seed, candidates=int(v[c.takes.candidates]), **sampling)


def _history_updates(c: Controls, history: list[dict]) -> dict:
    updates = {}
    for i, player in enumerate(c.players):
        if i < len(history):
            take = history[i]
            label = f"{take['text'][:40]}{'…' if len(take['text']) > 40 else ''} · {take['voice']} · seed {take['seed']}"
            updates[player] = gr.Audio(take["path"], label=label, visible=True)
        else:
            updates[player] = gr.Audio(None, visible=False)
    return updates


def _wire_generation(c: Controls, studio: Studio, prompt_btn: gr.Button) -> None:
    """Generate -> (busy button, Stop shown, last take's info cleared) -> the take, streamed, with its progress
    in the status line -> (button back). Stop sets the take's cancel event; the engine ends the take at once."""
    inputs = {c.mode, c.description, c.preset, c.clip, c.clip_text, c.consent, c.voices.loaded, c.tone, c.setting,
              c.scene_text, c.text, c.seed, c.randomize, c.history, *c.sampling.values(), c.takes.candidates,
              c.takes.check}

    def begin(request: gr.Request) -> dict:
        studio.begin_take(request.session_hash)
        return {c.generate_btn: gr.Button(GENERATING, interactive=False), c.stop_btn: gr.Button(visible=True),
                c.status: "Waiting for the model…", c.info: "", c.output: None}

    def generate(v: dict, request: gr.Request):
        cancel = studio.cancel_event(request.session_hash)
        notes = []
        try:
            voice = _voice_of(c, studio, v)
            if voice.is_own_clip and not v[c.consent]:
                raise gr.Error("Please tick the box under the clip to confirm that you have the right to use "
                               "this voice before cloning it.")
            if voice.is_own_clip and not voice.reference_text and studio.transcriber is not None \
                    and studio.transcriber.enabled:
                yield {c.status: "Transcribing the reference clip…"}
                try:
                    words = studio.transcribe(voice.reference_audio)
                    voice = Voice(voice.label, voice.reference_audio, words or None, is_own_clip=True)
                    yield {c.clip_text: words}
                except StudioError as err:
                    if is_user_error(err):
                        raise
                    notes.append(f"{readable(err)} Cloned without a transcript.")
                    yield {c.status: f"⚠️ {notes[-1]}"}
            request_ = _request_of(c, studio, v, voice)
            progress = {"words": "Generating…"}
            for item in studio.generate(request_, voice.label, v[c.history], cancel=cancel, check=v[c.takes.check],
                                        on_progress=lambda _f, words: progress.update(words=f"Generating… {words}")):
                if isinstance(item, bytes):
                    yield {c.live: item, c.status: progress["words"]}
                else:
                    finished = item
        except Stopped as err:
            yield {c.status: str(err)}
            return
        except Exception as err:  # noqa: BLE001 - every failure becomes a message, cleared by the next action
            yield {c.status: problem_line(err)}
            return
        result = finished.result
        said = ("random weights", "No transcript was given") if notes else ("random weights",)
        notes += [w for w in result.warnings if not any(words in w for words in said)]
        info = timing_line(result) + "".join(f"\n\n⚠️ {w}" for w in notes)
        info += f"\n\n{report_markdown(finished.takes, info)}" if finished.takes and finished.takes.score else ""
        shown = {c.prompt_view: result.prompt} if result.prompt else {}  # a remote backend sends no prompt
        yield {c.status: "", c.output: str(finished.path), c.info: info, c.seed: result.seed,
               c.history: finished.history, **shown, **_history_updates(c, finished.history)}

    def end(request: gr.Request) -> dict:
        studio.end_take(request.session_hash)
        return {c.generate_btn: gr.Button(GENERATE, interactive=True), c.stop_btn: gr.Button(visible=False)}

    def stop(request: gr.Request) -> dict:
        studio.stop_take(request.session_hash)
        return {c.status: "Stopping…"}

    outputs = {c.live, c.output, c.info, c.seed, c.history, c.prompt_view, c.clip_text, c.status, *c.players}
    busy = {c.generate_btn, c.stop_btn, c.status, c.info, c.output}
    # Progress and problems show in the status line only: no overlay or badge left on the players.
    c.generate_btn.click(begin, None, busy, **QUICK) \
        .then(generate, inputs, outputs, show_progress="hidden", **PRIVATE) \
        .then(end, None, {c.generate_btn, c.stop_btn}, **QUICK)
    c.stop_btn.click(stop, None, c.status, **QUICK)  # not queued: it must run while the take holds the queue

    def full_prompt(v: dict) -> dict:
        try:
            voice = _voice_of(c, studio, v)
            return {c.prompt_view: studio.render_prompt(_request_of(c, studio, v, voice)).rendered,
                    c.status: ""}
        except Exception as err:  # noqa: BLE001
            return {c.status: problem_line(err)}

    prompt_btn.click(full_prompt, inputs, {c.prompt_view, c.status}, show_progress="hidden", **PRIVATE)


def _wire_transcribe(c: Controls, studio: Studio, transcribe_btn: gr.Button) -> None:
    def transcribe(clip: str | None):
        yield {c.status: "Transcribing the clip…"}
        try:
            yield {c.clip_text: studio.transcribe(clip), c.status: ""}
        except Exception as err:  # noqa: BLE001 - said in the status line, never over the transcript box
            yield {c.status: problem_line(err)}

    transcribe_btn.click(transcribe, c.clip, {c.clip_text, c.status}, show_progress="hidden", **PRIVATE)
