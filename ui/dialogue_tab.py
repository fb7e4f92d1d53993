"""The Dialogue tab: a script, a voice per speaker found in it, one take streamed turn by turn.

Layout and wiring only: the dialogue is the studio's (Studio.dialogue), like a take: Generate turns into a
disabled "Generating…" with a Stop beside it, and the status line counts turns and seconds of audio.
The voice choices per speaker live in ui/dialogue.py (shared with the /dialogue API).
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from inference.contract.request import (
    DEFAULT_PAUSE_S,
    MAX_NEW_TOKENS,
    MAX_PAUSE_S,
    MAX_SEED,
    MIN_NEW_TOKENS,
    VOICE_LAYOUTS,
    SamplingOptions,
)
from inference.prompting.script import MAX_SPEAKERS
from studio.dialogue import DialogueTake
from studio.lengths import NOISE_MAX_TOKENS
from studio.outcomes import Stopped
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.take_words import take_info

from . import dialogue, edit_restore, library
from .api_fields import whole_number
from .clip_events import clear_problem
from .edit_events import fresh_state
from .errors import problem_line
from .voice_events import SILENCE_JS, UNMUTE_JS

NO_PRESET = "none"
GENERATE, GENERATING = "Generate the dialogue", "Generating…"
PRIVATE = {"api_visibility": "private"}
QUICK = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}
FORMAT_HELP = (
    "One line per turn: `Alice: Hello there.` (a short name and a colon) or the official `[SPEAKER0] Hello there.` "
    f"A line without a name continues the turn. Up to {MAX_SPEAKERS} speakers; tags like [laugh] add sound effects.")
LAYOUT_HELP = ("scene: every voice in every turn's prompt (the official layout). separate: only the speaking voice "
               "in each turn's prompt, which keeps voices apart (try it when voices swap or blend).")


@dataclass
class DialogueControls:
    """Every component a callback reads or writes, by name."""

    saved_voices: gr.BrowserState
    script: gr.Textbox
    example: gr.Button
    found: gr.Markdown
    tone: gr.Dropdown
    setting: gr.Dropdown
    scene: gr.Textbox
    slots: list[tuple[gr.Group, gr.Dropdown, gr.Audio, gr.Textbox]]  # per speaker: group, picker, clip, text
    consent: gr.Checkbox
    pause: gr.Slider
    layout: gr.Radio
    length: gr.Slider
    seed: gr.Number
    randomize: gr.Checkbox
    generate: gr.Button
    stop: gr.Button
    progress: gr.Markdown  # the status line: progress, then the take's timing
    live: gr.Audio
    output: gr.Audio
    turn_pick: gr.Dropdown
    turn_audio: gr.Audio
    subtitle_files: gr.File
    turns: gr.State
    edit: gr.State  # the take in the "Edit this take" panel (ui/edit_take.py)


def build_dialogue_tab(studio: Studio, saved_voices: gr.BrowserState) -> None:
    """The tab, inside the page's Blocks; `saved_voices` is the page's "My voices" library."""
    # Labels differ from the voice page's, so that a label names one control on the whole page.
    with gr.Tab("Dialogue", elem_id="hvs-dialogue"):
        gr.Markdown("### Dialogue: a voice per speaker\n" + FORMAT_HELP)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                script = gr.Textbox(label="Script", lines=8, max_lines=30, elem_id="hvs-dlg-script",
                                    placeholder="Alice: Hello Bob!\nBob: Hi Alice [laugh].")
                example = gr.Button("Example script", size="sm", elem_id="hvs-dlg-example")
                found = gr.Markdown("No speakers yet.", elem_id="hvs-dlg-found")
                tone = gr.Dropdown([NO_PRESET, *studio.presets.tones], value=NO_PRESET, label="Tone of the dialogue")
                setting = gr.Dropdown([NO_PRESET, *studio.presets.settings], value=NO_PRESET,
                                      label="Where it is recorded")
                scene = gr.Textbox(label="Scene in your own words", lines=2,
                                   placeholder="e.g. Two friends talking late at night.")
            with gr.Column(scale=2, min_width=320):
                slots = [_speaker_slot(number) for number in range(MAX_SPEAKERS)]
                consent = gr.Checkbox(label="I have the right to use the cloned voices (mine, or their speakers "
                                            "agreed to this use).", elem_id="hvs-dlg-consent")
                gr.Markdown(elem_id="hvs-dlg-consent-note")  # the consent reminder shows here (ui/page_js.py)
                with gr.Accordion("Dialogue options", open=False):
                    pause = gr.Slider(0, MAX_PAUSE_S, value=DEFAULT_PAUSE_S, step=0.05, label="Pause between turns (s)")
                    layout = gr.Radio(list(VOICE_LAYOUTS), value="scene", label="Voice layout", info=LAYOUT_HELP)
                    length = gr.Slider(MIN_NEW_TOKENS, MAX_NEW_TOKENS, step=1,
                                       value=NOISE_MAX_TOKENS if studio.is_noise  # random weights never stop
                                       else SamplingOptions.model_fields["max_new_tokens"].default,
                                       label="Max length per turn (tokens; 25 = 1 s of audio)")
                    with gr.Row():
                        seed = gr.Number(0, label="Dialogue seed", precision=0, minimum=0, maximum=MAX_SEED)
                        randomize = gr.Checkbox(True, label="New random seed for each dialogue")
        with gr.Row(elem_id="hvs-dlg-actions"):
            generate = gr.Button(GENERATE, variant="primary", elem_id="hvs-dlg-generate", scale=3)
            stop = gr.Button("Stop", variant="stop", elem_id="hvs-dlg-stop", visible=False, scale=1, min_width=80)
        progress = gr.Markdown(elem_id="hvs-dlg-progress")
        # One player on screen: the live one while the dialogue is made and heard, then the whole take (ui/page_js.py)
        live = gr.Audio(label="The dialogue: plays turn by turn while it is made", streaming=True, autoplay=True,
                        interactive=False, elem_id="hvs-dlg-live", buttons=[], elem_classes="hvs-audio")
        output = gr.Audio(label="The whole take", type="filepath", interactive=False, elem_id="hvs-dlg-output",
                          buttons=["download"], format="wav", elem_classes="hvs-audio")
        with gr.Row(equal_height=False):
            turn_pick = gr.Dropdown([], label="Play one turn", elem_id="hvs-dlg-turns", min_width=240)
            turn_audio = gr.Audio(label="Turn", type="filepath", interactive=False, elem_id="hvs-dlg-turn",
                                  buttons=["download"], elem_classes="hvs-audio", min_width=240)
        subtitle_files = gr.File(label="Subtitles (WebVTT, SRT)", file_count="multiple", interactive=False,
                                 elem_id="hvs-dlg-subtitles")
        turns = gr.State([])
        edit = edit_restore.dialogue_panel(studio, player=output, script=script, slots=slots,
                                           saved_voices=saved_voices)  # "Edit this take" (ui/edit_take.py)
    c = DialogueControls(saved_voices, script, example, found, tone, setting, scene, slots, consent, pause, layout,
                         length, seed, randomize, generate, stop, progress, live, output, turn_pick, turn_audio,
                         subtitle_files, turns, edit.state)
    _wire_script(c, studio)
    _wire_generation(c, studio)


def _wire_script(c: DialogueControls, studio: Studio) -> None:
    """The speakers listed as the script is typed, a voice picker shown for each; a clip box for a clip."""
    c.example.click(lambda: dialogue.EXAMPLE_SCRIPT, None, c.script, **QUICK)

    def list_speakers(text: str, saved: list[dict] | None) -> list:
        names, problem = dialogue.speakers_of(text)
        choices = dialogue.voice_choices(studio, library.names(saved))
        shown = f"⚠️ {problem}" if problem else (
            "**Speakers:** " + " · ".join(f"{n} (SPEAKER{i})" for i, n in enumerate(names)) if names
            else "No speakers yet.")
        updates = [shown]
        for number in range(len(c.slots)):
            if problem:  # mid-edit: keep the pickers as they are
                updates += [gr.Group(), gr.Dropdown(choices=choices)]
                continue
            visible = number < len(names)
            updates += [gr.Group(visible=visible),
                        gr.Dropdown(label=f"Voice of {names[number]}" if visible else "Voice", choices=choices)]
        return updates

    listing = [c.found, *[part for group, picker, _, _ in c.slots for part in (group, picker)]]
    c.script.change(list_speakers, [c.script, c.saved_voices], listing, trigger_mode="always_last", **QUICK)
    for event in (c.script.change, c.consent.input):  # a problem in the status line goes when its input changes
        event(clear_problem, c.progress, c.progress, **QUICK)

    for _group, picker, clip, text in c.slots:
        picker.change(lambda choice: (gr.Audio(visible=choice == dialogue.CLIP_CHOICE),
                                      gr.Textbox(visible=choice == dialogue.CLIP_CHOICE)),
                      picker, [clip, text], **QUICK)


def _request_of(c: DialogueControls, studio: Studio, v: dict):
    names, _ = dialogue.speakers_of(v[c.script])
    voices = {name: dialogue.voice_of_choice(studio, v[picker], v[clip], v[text], v[c.saved_voices])
              for name, (_, picker, clip, text) in zip(names, c.slots, strict=False)}
    if any(voice.is_own_clip for voice in voices.values()) and not v[c.consent]:
        raise gr.Error("Please confirm that you have the right to use the cloned voices (the checkbox "
                       "under the speakers) before cloning them.", print_exception=False)
    seed = None if v[c.randomize] or v[c.seed] is None else whole_number(v[c.seed])
    options = {"pause_s": v[c.pause], "voice_layout": v[c.layout], "max_new_tokens": whole_number(v[c.length])}
    return studio.prepare(TakeRequest(v[c.script] or "", speakers=voices, tone=v[c.tone], setting=v[c.setting],
                                      scene=v[c.scene], seed=seed, options=options))


def _wire_generation(c: DialogueControls, studio: Studio) -> None:
    """Generate -> (busy button, Stop shown) -> the take, turn by turn, its progress in the status line ->
    (button back). Stop sets the dialogue's cancel event: the engine ends it within a step."""
    inputs = {c.script, c.saved_voices, c.tone, c.setting, c.scene, c.consent, c.pause, c.layout, c.length, c.seed,
              c.randomize, *[part for _, picker, clip, text in c.slots for part in (picker, clip, text)]}

    def begin(request: gr.Request) -> dict:
        studio.begin_take(_key(request))
        return {c.generate: gr.Button(GENERATING, interactive=False), c.stop: gr.Button(visible=True),
                c.progress: "Waiting for the model…", c.output: None, c.edit: None}

    def run(v: dict, request: gr.Request):
        try:
            now = {"words": "Generating…"}
            for item in studio.dialogue(_request_of(c, studio, v), cancel=studio.cancel_event(_key(request)),
                                        on_progress=lambda words: now.update(words=words)):
                if isinstance(item, DialogueTake):
                    take = item
                else:
                    yield {c.live: item, c.progress: f"▶ {now['words']}"}
        except Stopped as err:  # the part made so far plays as the take
            yield {c.progress: str(err), **({c.output: str(err.part.path)} if err.part else {})}
            return
        except Exception as err:  # noqa: BLE001 - every failure becomes a message in the status line
            yield {c.progress: problem_line(err)}
            return
        count = len(take.turns)
        info = f"**{count} turn{'s' if count != 1 else ''}** · {take_info(take.result)}"
        first = take.turns[0] if take.turns else (None, None)
        yield {c.output: str(take.path), c.progress: info, c.seed: take.result.seed, c.turns: take.turns,
               c.turn_pick: gr.Dropdown([label for label, _ in take.turns], value=first[0]),
               c.turn_audio: first[1], c.subtitle_files: take.subtitle_files,
               c.edit: fresh_state(studio, take.result, take.path)}

    def end(request: gr.Request) -> dict:
        studio.end_take(_key(request))
        return {c.generate: gr.Button(GENERATE, interactive=True), c.stop: gr.Button(visible=False)}

    def stop(request: gr.Request) -> None:
        studio.stop_take(_key(request))

    outputs = {c.live, c.output, c.progress, c.seed, c.turns, c.turn_pick, c.turn_audio, c.subtitle_files, c.edit}
    c.generate.click(begin, None, {c.generate, c.stop, c.progress, c.output, c.edit}, js=UNMUTE_JS, **QUICK) \
        .then(run, inputs, outputs, show_progress="hidden", **PRIVATE) \
        .then(end, None, {c.generate, c.stop}, **QUICK)
    c.stop.click(None, None, c.progress, js=SILENCE_JS, **PRIVATE)  # silence, and "Stopping…" said in the page
    c.stop.click(stop, None, None, **QUICK)  # not queued: it must run while the dialogue holds the queue

    def play_turn(label: str | None, known: list) -> str | None:
        return next((path for name, path in known or [] if name == label), None)

    c.turn_pick.change(play_turn, [c.turn_pick, c.turns], c.turn_audio, **QUICK)


def _key(request: gr.Request) -> str:
    """The dialogue's cancel event, per page session (apart from the Voice tab's take)."""
    return f"{request.session_hash}:dialogue"


def _speaker_slot(number: int) -> tuple[gr.Group, gr.Dropdown, gr.Audio, gr.Textbox]:
    """One speaker's voice picker (hidden until the script names a speaker number `number`)."""
    with gr.Group(visible=False) as group:
        picker = gr.Dropdown([], value=dialogue.SMART_CHOICE, label="Voice", allow_custom_value=True,
                             elem_classes="hvs-dlg-voice", elem_id=f"hvs-dlg-voice-{number}",
                             info="Pick a voice, or type words that describe one.")
        clip = gr.Audio(sources=["microphone", "upload"], type="filepath", label="Clip of this voice",
                        visible=False, elem_id=f"hvs-dlg-clip-{number}", elem_classes="hvs-audio",
                        buttons=["download"])  # never "share": it would publish the visitor's voice
        text = gr.Textbox(label="What the clip says (transcript)", lines=1, visible=False)
    return group, picker, clip, text
