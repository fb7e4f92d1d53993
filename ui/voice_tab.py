"""The Voice tab: one voice (smart, described, preset or cloned) speaks a text. Layout and event wiring.

Callbacks take their inputs as one dict (Gradio passes a dict when `inputs` is a set) and return a
dict of the outputs they change, so no callback has a long positional signature.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import gradio as gr

from inference.errors import StudioError
from inference.schema import MAX_SEED, MAX_TEXT_CHARS, SamplingOptions
from inference.text import ALL_TAGS

from . import library
from .errors import raise_readable
from .studio import Studio, is_user_error, timing_line
from .voice import CLONE, DESCRIBED, MODES, PRESET, SMART, Voice, pick_voice

log = logging.getLogger(__name__)

CSS = """
#hvs-counter { text-align: right; opacity: .75; font-size: .9em; }
#hvs-counter .over { color: #d33; font-weight: 600; }
.hvs-tags button { min-width: 0 !important; }
"""
SLIDER_LABELS = {
    "temperature": "Temperature", "top_p": "Top-p", "top_k": "Top-k",
    "max_new_tokens": "Max length (tokens; 25 = 1 s of audio)",
    "ras_win_len": "Repetition window", "ras_max_repeats": "Max repeats in the window",
}
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
    library: gr.BrowserState
    saved: gr.Dropdown
    saved_name: gr.Textbox
    tone: gr.Radio
    setting: gr.Radio
    scene_text: gr.Textbox
    text: gr.Textbox
    sampling: dict[str, gr.Slider]
    seed: gr.Number
    randomize: gr.Checkbox
    live: gr.Audio
    output: gr.Audio
    info: gr.Markdown
    prompt_view: gr.Code
    history: gr.State
    players: list[gr.Audio]
    groups: dict[str, gr.Column]


def _slider(name: str) -> gr.Slider:
    """Range and default straight from the request schema, never re-typed here."""
    spec = SamplingOptions.model_fields[name]
    bounds = {key: getattr(m, key) for m in spec.metadata for key in ("ge", "gt", "le") if hasattr(m, key)}
    step = 0.05 if spec.annotation is float else 1
    low = bounds["ge"] if "ge" in bounds else bounds.get("gt", 0) + step
    return gr.Slider(low, bounds["le"], value=spec.default, step=step, label=SLIDER_LABELS.get(name, name),
                     info=spec.description)


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
            mode = gr.Radio(list(MODES), value=SMART, label="Who speaks",
                            info="Smart voice: the model picks a voice that suits the text.")
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
            with gr.Column(visible=False) as clone_col:
                clip = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Reference voice",
                                editable=True, elem_id="hvs-clip",
                                waveform_options=gr.WaveformOptions(show_recording_waveform=True))
                clip_text = gr.Textbox(label="What the clip says (transcript)", lines=2,
                                       placeholder="Left empty, it is transcribed automatically.")
                transcribe_btn = gr.Button("Transcribe", size="sm")
                consent = gr.Checkbox(label="I have the right to use this voice (it is mine, or its speaker "
                                            "agreed to this use).", elem_id="hvs-consent")
                with gr.Accordion("My voices (kept only in this browser)", open=False):
                    saved = gr.Dropdown([], label="Saved voices", allow_custom_value=False, elem_id="hvs-saved")
                    saved_name = gr.Textbox(label="Name", placeholder="e.g. My calm voice", max_lines=1)
                    with gr.Row():
                        save_btn = gr.Button("Save clip", size="sm")
                        use_btn = gr.Button("Use", size="sm")
                        rename_btn = gr.Button("Rename", size="sm")
                        delete_btn = gr.Button("Delete", size="sm", variant="stop")
            library_state = gr.BrowserState([], storage_key="hvs-voice-library", secret=browser_secret)

            gr.Markdown("### 2 · Tone")
            tone = gr.Radio([NO_PRESET, *studio.presets.tones], value=NO_PRESET, label="Tone")
            setting = gr.Radio([NO_PRESET, *studio.presets.settings], value=NO_PRESET, label="Setting")
            scene_text = gr.Textbox(label="Describe the tone or scene in your own words", lines=2,
                                    placeholder="e.g. Whispering, as if telling a secret.")

        with gr.Column(scale=3, min_width=360):
            gr.Markdown("### 3 · Text")
            with gr.Row(elem_classes="hvs-tags"):
                tag_buttons = [(gr.Button(tag, size="sm", min_width=0), tag) for tag in ALL_TAGS]
            text = gr.Textbox(label="Text to speak", lines=7, max_lines=20, elem_id="hvs-text",
                              placeholder="Type what the voice should say. Tags like [laugh] add sound effects.")
            counter = gr.Markdown(f"0 / {MAX_TEXT_CHARS} characters", elem_id="hvs-counter")
            generate_btn = gr.Button("Generate", variant="primary", elem_id="hvs-generate")
            live = gr.Audio(label="Live: plays while generating", streaming=True, autoplay=True,
                            interactive=False, elem_id="hvs-live", buttons=[])
            output = gr.Audio(label="Result", type="filepath", interactive=False, elem_id="hvs-output",
                              buttons=["download"], format="wav")
            info = gr.Markdown(elem_id="hvs-info")
            with gr.Accordion("Advanced", open=False):
                sampling = {name: _slider(name) for name in SamplingOptions.model_fields}
                with gr.Row():
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
                    randomize = gr.Checkbox(True, label="New random seed each take")
            with gr.Accordion("What the model is given", open=False):
                prompt_view = gr.Code(label="Scene + text (press 'Show full prompt' for the rendered prompt)",
                                      language=None, lines=8, interactive=False, elem_id="hvs-prompt", wrap_lines=True)
                prompt_btn = gr.Button("Show full prompt", size="sm")
            with gr.Accordion("Your last takes (this visit only)", open=True):
                history = gr.State([])
                players = [gr.Audio(visible=False, interactive=False, type="filepath", buttons=["download"],
                                    elem_classes="hvs-history")
                           for _ in range(studio.history_size)]

    c = Controls(mode, description, preset, preset_preview, clip, clip_text, consent, library_state, saved,
                 saved_name, tone, setting, scene_text, text, sampling, seed, randomize, live, output, info,
                 prompt_view, history, players,
                 {DESCRIBED: described_col, PRESET: preset_col, CLONE: clone_col})
    _wire_page(c, studio, tag_buttons, counter)
    _wire_generation(c, studio, generate_btn, prompt_btn)
    _wire_library(c, studio, transcribe_btn, save_btn, use_btn, rename_btn, delete_btn)
    # The voice library lives in the browser: fill its dropdown once the page has loaded it.
    demo.load(_library_choices, c.library, c.saved, **QUICK)
    return c


# ---- wiring ----------------------------------------------------------------------------------
PRIVATE = {"api_visibility": "private"}
QUICK = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}


def _wire_page(c: Controls, studio: Studio, tag_buttons: list, counter: gr.Markdown) -> None:
    for button, tag in tag_buttons:
        button.click(None, inputs=c.text, outputs=c.text, js=_insert_tag_js(tag), **PRIVATE)
    c.text.change(None, inputs=c.text, outputs=counter, js=COUNTER_JS, **PRIVATE)

    def show_mode(mode: str) -> dict:
        return {col: gr.Column(visible=mode == name) for name, col in c.groups.items()}

    c.mode.change(show_mode, c.mode, list(c.groups.values()), **QUICK)

    def preview(name: str | None):
        try:
            return str(studio.voices.get(name).audio_path) if name else None
        except StudioError:
            return None

    c.preset.change(preview, c.preset, c.preset_preview, **QUICK)

    scene_inputs = {c.mode, c.description, c.tone, c.setting, c.scene_text, c.text}

    def show_scene(v: dict) -> str:
        """The scene turn and text as they will be sent (client-light preview, no model needed)."""
        try:
            voice = Voice(SMART, description=studio.presets.voice_description(v[c.description])
                          if v[c.mode] == DESCRIBED else None)
            scene = studio.scene(voice, v[c.tone], v[c.setting], v[c.scene_text])
        except StudioError as err:
            return f"(not valid yet: {err})"
        return f"[scene]\n{scene or '(none)'}\n\n[text]\n{v[c.text] or ''}"

    for component in scene_inputs:
        component.change(show_scene, scene_inputs, c.prompt_view, **QUICK)


def _voice_of(c: Controls, studio: Studio, v: dict) -> Voice:
    return pick_voice(v[c.mode], description=v[c.description], preset=v[c.preset], clip=v[c.clip],
                      clip_text=v[c.clip_text], voices=studio.voices, presets=studio.presets)


def _request_of(c: Controls, studio: Studio, v: dict, voice: Voice):
    seed = None if v[c.randomize] or v[c.seed] is None else int(v[c.seed])
    sampling = {name: v[slider] for name, slider in c.sampling.items()}
    scene = studio.scene(voice, v[c.tone], v[c.setting], v[c.scene_text])
    return studio.request(voice, v[c.text] or "", scene, seed, **sampling)


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


def _wire_generation(c: Controls, studio: Studio, generate_btn: gr.Button, prompt_btn: gr.Button) -> None:
    inputs = {c.mode, c.description, c.preset, c.clip, c.clip_text, c.consent, c.tone, c.setting, c.scene_text,
              c.text, c.seed, c.randomize, c.history, *c.sampling.values()}

    def generate(v: dict, progress=gr.Progress()):  # noqa: B008 - Gradio injects it
        try:
            voice = _voice_of(c, studio, v)
            if voice.is_own_clip and not v[c.consent]:
                raise gr.Error("Please confirm that you have the right to use this voice (the checkbox under the "
                               "clip) before cloning it.", print_exception=False)
            updates = {}
            if voice.is_own_clip and not voice.reference_text and studio.transcriber is not None \
                    and studio.transcriber.enabled:
                progress(0, desc="Transcribing the reference clip…")
                try:
                    words = studio.transcribe(voice.reference_audio)
                    voice = Voice(voice.label, voice.reference_audio, words or None)
                    updates[c.clip_text] = words
                except StudioError as err:
                    if is_user_error(err):
                        raise
                    gr.Warning(f"{err} Cloning without a transcript.")
            request = _request_of(c, studio, v, voice)
            progress(0, desc="Generating…")
            if updates:
                yield updates
            for item in studio.generate(request, voice.label, v[c.history],
                                        on_progress=lambda f, desc: progress(f, desc=desc)):
                if isinstance(item, bytes):
                    yield {c.live: item}
                else:
                    finished = item
        except gr.Error:
            raise
        except Exception as err:  # noqa: BLE001 - every failure becomes a message
            raise_readable(err)
        result = finished.result
        notes = [w for w in result.warnings if "random weights" not in w]
        info = timing_line(result) + "".join(f"\n\n⚠️ {w}" for w in notes)
        shown = {c.prompt_view: result.prompt} if result.prompt else {}  # a remote backend sends no prompt
        yield {c.output: str(finished.path), c.info: info, c.seed: result.seed,
               c.history: finished.history, **shown, **_history_updates(c, finished.history)}

    outputs = {c.live, c.output, c.info, c.seed, c.history, c.prompt_view, c.clip_text, *c.players}
    # Progress (and an error) shows on the players only, never over the seed or transcript fields.
    generate_btn.click(generate, inputs, outputs, show_progress_on=[c.live, c.output], **PRIVATE)

    def full_prompt(v: dict) -> str:
        try:
            voice = _voice_of(c, studio, v)
            return studio.engine.render_prompt(_request_of(c, studio, v, voice)).rendered
        except Exception as err:  # noqa: BLE001
            raise_readable(err)

    prompt_btn.click(full_prompt, inputs, c.prompt_view, **PRIVATE)


def _library_choices(entries: list[dict] | None, selected: str | None = None) -> gr.Dropdown:
    names = library.names(entries)
    return gr.Dropdown(names, value=selected if selected in names else (names[0] if names else None))


def _wire_library(c: Controls, studio: Studio, transcribe_btn, save_btn, use_btn, rename_btn, delete_btn) -> None:
    def transcribe(clip: str | None) -> str:
        try:
            return studio.transcribe(clip)
        except Exception as err:  # noqa: BLE001
            raise_readable(err)

    transcribe_btn.click(transcribe, c.clip, c.clip_text, show_progress="minimal", **PRIVATE)

    def guarded(fn):
        def run(v: dict) -> dict:
            try:
                return fn(v)
            except Exception as err:  # noqa: BLE001
                raise_readable(err)
        return run

    @guarded
    def save(v: dict) -> dict:
        if not v[c.clip]:
            raise gr.Error("Record or upload a clip first, then save it.", print_exception=False)
        entry = library.make_entry(v[c.clip], v[c.saved_name], v[c.clip_text])
        entries = library.save(v[c.library], entry)
        replaced = entry["name"] in library.names(v[c.library])
        gr.Info(f"{'Replaced' if replaced else 'Saved'} {entry['name']!r} in this browser.")
        return {c.library: entries, c.saved: _library_choices(entries, entry["name"])}

    @guarded
    def use(v: dict) -> dict:
        entry = library.find(v[c.library], v[c.saved])
        return {c.clip: str(library.to_file(entry)), c.clip_text: entry.get("transcript", ""),
                c.saved_name: entry["name"], c.mode: CLONE}

    @guarded
    def rename(v: dict) -> dict:
        entries = library.rename(v[c.library], v[c.saved], v[c.saved_name])
        return {c.library: entries, c.saved: _library_choices(entries, " ".join((v[c.saved_name] or "").split()))}

    @guarded
    def delete(v: dict) -> dict:
        entries = library.delete(v[c.library], v[c.saved])
        return {c.library: entries, c.saved: _library_choices(entries)}

    inputs = {c.clip, c.clip_text, c.library, c.saved, c.saved_name}
    outputs = {c.library, c.saved}
    # Quick edits: no progress overlay, which after an error would cover the fields until the next change.
    quiet = {**PRIVATE, "show_progress": "hidden"}
    save_btn.click(save, inputs, outputs, **quiet)
    use_btn.click(use, inputs, {c.clip, c.clip_text, c.saved_name, c.mode}, **quiet)
    rename_btn.click(rename, inputs, outputs, **quiet)
    delete_btn.click(delete, inputs, outputs, **quiet)
