"""The Voice tab's callbacks and event wiring (the layout is ui/voice_tab.py).

Callbacks take their inputs as one dict (Gradio passes a dict when `inputs` is a set) and return a
dict of the outputs they change, so no callback has a long positional signature.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import gradio as gr

from inference.contract.errors import StudioError
from studio.outcomes import Stopped
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.take_words import is_user_error, timing_line
from studio.voices import DESCRIBED, PRESET, SMART, Voice, VoiceSpec

from .api_fields import whole_number
from .clip_events import clear_problem, wire_clip_check
from .edit_events import fresh_state
from .errors import problem_line, readable
from .page_js import COUNTER_JS, insert_tag_js
from .take_report import report_markdown
from .voice_panel import pick_voice

if TYPE_CHECKING:
    from .voice_tab import Controls

log = logging.getLogger(__name__)


GENERATE, GENERATING = "Generate", "Generating…"
# Stop silences the take players at once, in the page (what they had buffered would play on for seconds), and
# says "Stopping…" there too: said by the server, it could arrive after the take's own "Stopped at…" line.
SILENCE_JS = """() => { document.querySelectorAll('#hvs-live audio, #hvs-dlg-live audio').forEach(a => {
  a.pause(); a.muted = true; }); return 'Stopping…'; }"""
UNMUTE_JS = """() => { document.querySelectorAll('#hvs-live audio, #hvs-dlg-live audio').forEach(a => {
  a.muted = false; }); }"""
PRIVATE = {"api_visibility": "private"}
QUICK = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}


def who_speaks(clip: str | None, mode: str | None, name: str | None) -> str:
    if clip:
        return f"**Cloning {name or 'your clip'}.** Remove the clip (×) to use another voice."
    return f"{_SPEAKS.get(mode, _SPEAKS[SMART])} Upload or record a clip above to clone a voice."


_SPEAKS = {SMART: "**A smart voice** speaks: the model picks one that suits the text.",
           DESCRIBED: "**The voice you describe** speaks.", PRESET: "**A preset voice** speaks."}


def _wire_page(c: Controls, studio: Studio, tag_buttons: list, counter: gr.Markdown) -> None:
    for button, tag in tag_buttons:
        button.click(None, inputs=c.text, outputs=c.text, js=insert_tag_js(tag), **PRIVATE)
    c.text.change(None, inputs=c.text, outputs=counter, js=COUNTER_JS, **PRIVATE)
    for event in (c.text.change, c.mode.change, c.consent.input):  # consent: by hand only (a bad clip unticks it)
        event(clear_problem, c.status, c.status, **QUICK)
    wire_clip_check(c)

    def show_mode(v: dict) -> dict:
        note = who_speaks(v[c.clip], v[c.mode], v[c.voices.loaded])
        if not v[c.clip] and v[c.mode] == PRESET and v[c.preset]:
            note += f"\n\n{_preset_note(studio, v[c.preset])}"
        return {c.voice_note: note, **{col: gr.Column(visible=v[c.mode] == name) for name, col in c.groups.items()}}

    for component in (c.mode, c.clip, c.voices.loaded, c.preset):
        component.change(show_mode, {c.clip, c.mode, c.voices.loaded, c.preset}, {c.voice_note, *c.groups.values()},
                         **QUICK)

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
    seed = None if v[c.randomize] or v[c.seed] is None else whole_number(v[c.seed])
    sampling = {name: v[slider] for name, slider in c.sampling.items()}
    options = {"candidates": whole_number(v[c.takes.candidates]), "parts": "sentence" if v[c.takes.by_sentence] else "length"}
    return studio.prepare(TakeRequest(v[c.text] or "", voice, tone=v[c.tone], setting=v[c.setting],
                                      scene=v[c.scene_text], seed=seed, options={**options, **sampling}))


def _take_label(take: dict) -> str:
    return f"{take['text'][:40]}{'…' if len(take['text']) > 40 else ''} · {take['voice']} · {_take_note(take)}"


def _history_updates(c: Controls, earlier: list[dict]) -> dict:
    """The earlier takes' players: the takes that are not in the take player above them."""
    updates = {}
    for i, player in enumerate(c.players):
        if i < len(earlier):
            updates[player] = gr.Audio(earlier[i]["path"], label=_take_label(earlier[i]), visible=True)
        else:
            updates[player] = gr.Audio(None, visible=False)
    return updates


def _shown_take(c: Controls, history: list[dict]) -> dict:
    """A finished (or stopped) take, the first of `history`, in the take player, labelled; the rest below it."""
    take = history[0]
    return {c.output: gr.Audio(take["path"], label=_take_label(take)), c.history: history,
            **_history_updates(c, history[1:])}


def _take_note(take: dict) -> str:
    seed = f"seed {take['seed']}" if take.get("seed") is not None else ""
    stopped = f"stopped at {take['stopped_at']:.1f} s" if take.get("stopped_at") is not None else ""
    return " · ".join(note for note in (stopped, seed) if note)


def _preset_note(studio: Studio, name: str) -> str:
    """A shipped voice says what it is and where it comes from (its license note); a trained voice, that it is one."""
    trained = next((v for v in studio.resolver.trained if v.name == name), None)
    if trained is not None:
        return f"*{trained.label}:* a voice trained on this server (its LoRA adapter speaks; no clip)."
    try:
        voice = studio.voices.get(name)
    except StudioError:
        return ""
    return f"*{voice.label}.* {voice.description}".strip()


EXAMPLE_TEXT = "Hello! This is Higgs Voice Studio. Type your own words, or clone your own voice with a short clip."


def _inputs(c: Controls) -> set:
    return {c.mode, c.description, c.preset, c.clip, c.clip_text, c.consent, c.voices.loaded, c.tone, c.setting,
            c.scene_text, c.text, c.seed, c.randomize, c.history, *c.sampling.values(), c.takes.candidates,
            c.takes.check, c.takes.by_sentence}


def _finished_updates(c: Controls, studio: Studio, finished, notes: list[str]) -> dict:
    """A finished take on the page: the take player, the timing line with the notes not said yet, the history,
    and the take's parts to edit."""
    result = finished.result
    said = ("random weights", "No transcript was given") if notes else ("random weights",)
    notes += [w for w in result.warnings if not any(words in w for words in said)]
    info = timing_line(result) + "".join(f"\n\n⚠️ {w}" for w in notes)
    info += f"\n\n{report_markdown(finished.takes, info)}" if finished.takes and finished.takes.score else ""
    shown = {c.prompt_view: result.prompt} if result.prompt else {}  # a remote backend sends no prompt
    return {c.status: "", c.info: info, c.seed: result.seed, c.edit: fresh_state(studio, result, finished.path),
            **shown, **_shown_take(c, finished.history)}


def _ready_voice(c: Controls, studio: Studio, v: dict, notes: list[str]):
    """The voice of the take, its consent checked and its clip transcribed when no transcript was typed
    (a generator: yields the page's updates meanwhile, returns the voice)."""
    voice = _voice_of(c, studio, v)
    if voice.is_own_clip and not v[c.consent]:
        raise gr.Error("Please tick the box under the clip to confirm that you have the right to use "
                       "this voice before cloning it.")
    if v[c.consent] and not v[c.clip]:  # never another voice in place of the one meant to be cloned
        raise gr.Error("The box for cloning is ticked, but there is no clip to clone: upload or record "
                       "one (the last file could not be used), or untick the box to let another voice speak.")
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
    return voice


def _take_bounds(c: Controls, studio: Studio):
    """What a take starts with (busy button, Stop shown, last take's info cleared) and ends with (button back)."""

    def begin(history: list[dict] | None, request: gr.Request) -> dict:
        """The take player is emptied for the new take; the one it held moves down to the earlier takes."""
        studio.begin_take(request.session_hash)
        return {c.generate_btn: gr.Button(GENERATING, interactive=False), c.stop_btn: gr.Button(visible=True),
                c.status: "Waiting for the model…", c.info: "",
                c.output: None, c.edit: None, **_history_updates(c, history or [])}

    def end(request: gr.Request) -> dict:
        studio.end_take(request.session_hash)
        return {c.generate_btn: gr.Button(GENERATE, interactive=True), c.stop_btn: gr.Button(visible=False)}

    return begin, end


def _wire_generation(c: Controls, studio: Studio, example_btn: gr.Button) -> None:
    """Generate -> (busy button, Stop shown, last take's info cleared) -> the take, streamed, with its progress
    in the status line -> (button back). Stop sets the take's cancel event; the engine ends the take at once.
    Try an example fills a shipped preset voice and a text first, then does the same."""
    inputs = _inputs(c)
    begin, end = _take_bounds(c, studio)

    def generate(v: dict, request: gr.Request):
        cancel = studio.cancel_event(request.session_hash)
        notes = []
        try:
            voice = yield from _ready_voice(c, studio, v, notes)
            request_ = _request_of(c, studio, v, voice)
            progress = {"words": "Generating…"}
            for item in studio.generate(request_, voice.label, v[c.history], cancel=cancel, check=v[c.takes.check],
                                        on_progress=lambda _f, words: progress.update(words=f"Generating… {words}")):
                if isinstance(item, bytes):
                    yield {c.live: item, c.status: progress["words"]}
                else:
                    finished = item
        except Stopped as err:  # the part made so far is kept as the take, in the take player
            part = err.part
            yield {c.status: str(err), **(_shown_take(c, part.history) if part is not None else {})}
            return
        except Exception as err:  # noqa: BLE001 - every failure becomes a message, cleared by the next action
            yield {c.status: problem_line(err)}
            return
        yield _finished_updates(c, studio, finished, notes)

    def stop(request: gr.Request) -> None:
        studio.stop_take(request.session_hash)

    outputs = {c.live, c.output, c.info, c.seed, c.history, c.prompt_view, c.clip_text, c.status, c.edit, *c.players}
    busy = {c.generate_btn, c.stop_btn, c.status, c.info, c.output, c.edit, *c.players}

    def fill_example() -> dict:
        voice = studio.voices.all()[0]  # a shipped preset: its transcript and note come with it
        return {c.clip: None, c.consent: False, c.mode: PRESET, c.preset: voice.name, c.text: EXAMPLE_TEXT}

    # Progress and problems show in the status line only: no overlay or badge left on the players.
    for button in (c.generate_btn, example_btn):  # a new take is heard (after a Stop muted the live player)
        button.click(None, None, None, js=UNMUTE_JS, **PRIVATE)
    c.generate_btn.click(begin, c.history, busy, **QUICK) \
        .then(generate, inputs, outputs, show_progress="hidden", **PRIVATE) \
        .then(end, None, {c.generate_btn, c.stop_btn}, **QUICK)
    example_btn.click(fill_example, None, {c.clip, c.consent, c.mode, c.preset, c.text}, **QUICK) \
        .then(begin, c.history, busy, **QUICK) \
        .then(generate, inputs, outputs, show_progress="hidden", **PRIVATE) \
        .then(end, None, {c.generate_btn, c.stop_btn}, **QUICK)
    c.stop_btn.click(None, None, c.status, js=SILENCE_JS, **PRIVATE)
    c.stop_btn.click(stop, None, None, **QUICK)  # not queued: it must run while the take holds the queue


def _wire_prompt(c: Controls, studio: Studio, prompt_btn: gr.Button) -> None:
    def full_prompt(v: dict) -> dict:
        try:
            voice = _voice_of(c, studio, v)
            return {c.prompt_view: studio.render_prompt(_request_of(c, studio, v, voice)).rendered,
                    c.status: ""}
        except Exception as err:  # noqa: BLE001
            return {c.status: problem_line(err)}

    prompt_btn.click(full_prompt, _inputs(c), {c.prompt_view, c.status}, show_progress="hidden", **PRIVATE)


def _wire_transcribe(c: Controls, studio: Studio, transcribe_btn: gr.Button) -> None:
    def transcribe(clip: str | None):
        yield {c.status: "Transcribing the clip…"}
        try:
            yield {c.clip_text: studio.transcribe(clip), c.status: ""}
        except Exception as err:  # noqa: BLE001 - said in the status line, never over the transcript box
            yield {c.status: problem_line(err)}

    transcribe_btn.click(transcribe, c.clip, {c.clip_text, c.status}, show_progress="hidden", **PRIVATE)


def wire(c: Controls, studio: Studio, *, tag_buttons: list, counter: gr.Markdown, prompt_btn: gr.Button,
         transcribe_btn: gr.Button, example_btn: gr.Button) -> None:
    _wire_page(c, studio, tag_buttons, counter)
    _wire_generation(c, studio, example_btn)
    _wire_prompt(c, studio, prompt_btn)
    _wire_transcribe(c, studio, transcribe_btn)
