"""*Edit this take*: under a tab's result, one row per part of the take (a long text's chunk, a dialogue's
turn) with its words, its place in the take, Play, Try again, new words and its variants; and per part a
pause before it, Remove, and a new part after it. Downloads (the take, its subtitles, its recipe) and
*Load a recipe* to go on editing another day. The layout only: what each action does is ui/edit_events.py.

The rows are drawn by @gr.render from the panel's state (the recipe, in a gr.State): each edit sets a new
state, and the rows are drawn again. The tab's own player plays the whole take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from inference.contract.recipe import Recipe, RecipePart
from inference.contract.request import MAX_PAUSE_S
from studio.revise import Edit
from studio.service import Studio

from . import edit_events
from .edit_events import Clips

PRIVATE = {"api_visibility": "private"}
HINT = ("Each part of a take has a row here: play it alone, try it again with a new seed, change its words, "
        "and keep the best of up to 4 variants. The whole take and its downloads update after each edit.")


@dataclass
class EditPanel:
    state: gr.State  # {"recipe": JSON, "take": WAV path, "files": downloads}, or None before a take
    player: gr.Audio  # the tab's player of the whole take
    status: gr.Markdown
    part_player: gr.Audio
    files: gr.File
    loader: gr.UploadButton


def build_panel(studio: Studio, *, prefix: str, player: gr.Audio, clips: Clips,
                restore: Callable[[Recipe, dict], tuple[dict, str]], restore_inputs: list,
                restore_outputs: list) -> EditPanel:
    """The panel, inside the caller's layout. `restore(recipe, values)` gives the tab's voice choices of a
    loaded recipe (updates of `restore_outputs`, read from `restore_inputs`) and a sentence about them."""
    with gr.Accordion("Edit this take", open=True, elem_id=f"{prefix}-edit", elem_classes="hvs-edit"):
        gr.Markdown(HINT, elem_classes="hvs-edit-hint")
        loader = gr.UploadButton("Load a recipe (.json) to edit its take", file_types=[".json"],
                                 type="filepath", size="sm", elem_id=f"{prefix}-edit-load")
        files = gr.File(label="Downloads: the take (WAV), its subtitles (VTT, SRT), its recipe (JSON)",
                        file_count="multiple", interactive=False, elem_id=f"{prefix}-edit-files",
                        elem_classes="hvs-edit-files", visible=False)
        status = gr.Markdown(elem_id=f"{prefix}-edit-status", elem_classes="hvs-edit-status")
        part_player = gr.Audio(label="Part", type="filepath", interactive=False, elem_id=f"{prefix}-edit-part",
                               buttons=[], elem_classes="hvs-audio", visible=False)
        state = gr.State(None)
        panel = EditPanel(state, player, status, part_player, files, loader)
        _rows(studio, panel, clips, prefix)  # drawn here, under the part player
    # a take from the tab's Generate comes as a new state (None while it is made): its downloads show
    state.change(lambda now: {files: edit_events.downloads(now), part_player: gr.Audio(visible=True)}
                 if now else {files: gr.File(None, visible=False), part_player: gr.Audio(None, visible=False),
                              status: ""},
                 state, {files, part_player, status}, queue=False, show_progress="hidden", **PRIVATE)
    outputs = {state, player, files, status, *restore_outputs}
    loader.upload(lambda v: (yield from edit_events.load(studio, panel, v[loader], v, restore)),
                  {loader, *restore_inputs}, outputs, show_progress="hidden", **PRIVATE)
    return panel


def _rows(studio: Studio, panel: EditPanel, clips: Clips, prefix: str) -> None:
    @gr.render(inputs=panel.state)
    def rows(state: dict | None):
        recipe = edit_events.recipe_of(state)
        if recipe is None:
            return
        speakers = [name for name in (recipe.speakers or {})]
        for index, part in enumerate(recipe.parts):
            _row(studio, panel, clips, prefix, index, part, speakers)


def _label(index: int, part: RecipePart) -> str:
    who = f" · {part.speaker}" if part.speaker else ""
    return f"Part {index + 1}{who} · {part.start_s:.1f}-{part.end_s:.1f} s"


def _row(studio: Studio, panel: EditPanel, clips: Clips, prefix: str, index: int, part: RecipePart,
         speakers: list[str]) -> None:
    """One part: its words (edit them here), Play / Try again / Say new words, its variants, and more."""
    take = part.take
    outputs = {panel.state, panel.player, panel.files, panel.status, panel.part_player}
    inputs = {panel.state, *clips.inputs}

    with gr.Column(elem_id=f"{prefix}-edit-part-{index}", elem_classes="hvs-edit-part", min_width=0), gr.Group():
        words = gr.Textbox(take.caption or take.text, label=_label(index, part), lines=1, max_lines=6,
                           elem_classes="hvs-edit-words", interactive=True)
        with gr.Row(elem_classes="hvs-edit-actions"):
            play = gr.Button("▶ Play", size="sm", min_width=0, elem_classes="hvs-edit-play")
            again = gr.Button("Try again", size="sm", min_width=0, elem_classes=["hvs-edit-again", "hvs-edit-do"])
            say = gr.Button("Say new words", size="sm", min_width=0, elem_classes=["hvs-edit-say", "hvs-edit-do"])
        if len(part.variants) > 1:
            variants = gr.Radio([(f"{j + 1}", j) for j in range(len(part.variants))], value=part.chosen,
                                label="Variants: pick one to hear it in the take and keep it",
                                elem_classes="hvs-edit-variants", interactive=True)
            variants.input(lambda v: (yield from edit_events.apply(
                studio, panel, Edit(index, "choose", variant=v[variants]), v, clips, index)),
                {panel.state, variants}, outputs, show_progress="hidden", **PRIVATE)
        with gr.Accordion("More: pause, remove, add", open=False, elem_classes="hvs-edit-more"):
            _more(studio, panel, clips, index, part, speakers, outputs)
    play.click(lambda state: edit_events.play(studio, panel, index, state), panel.state,
               {panel.part_player, panel.status}, show_progress="hidden", **PRIVATE)
    again.click(lambda v: (yield from edit_events.apply(studio, panel, Edit(index), v, clips, index)),
                inputs, outputs, show_progress="hidden", **PRIVATE)
    say.click(lambda v: (yield from edit_events.apply(studio, panel, Edit(index, text=v[words]), v, clips, index)),
              {words, *inputs}, outputs, show_progress="hidden", **PRIVATE)


def _more(studio: Studio, panel: EditPanel, clips: Clips, index: int, part: RecipePart, speakers: list[str],
          outputs: set) -> None:
    inputs = {panel.state, *clips.inputs}
    with gr.Row(elem_classes="hvs-edit-actions"):
        if index:  # a pause goes between parts
            pause = gr.Number(part.pause_before_s, label="Pause before it (s)", minimum=0, maximum=MAX_PAUSE_S,
                              step=0.1, min_width=120, interactive=True)
            set_pause = gr.Button("Set the pause", size="sm", min_width=0, elem_classes="hvs-edit-do")
            set_pause.click(lambda v: (yield from edit_events.apply(
                studio, panel, Edit(index, "pause", pause_s=float(v[pause] or 0)), v, clips)),
                {panel.state, pause}, outputs, show_progress="hidden", **PRIVATE)
        delete = gr.Button("Remove this part", size="sm", variant="stop", min_width=0, elem_classes="hvs-edit-do")
    delete.click(lambda v: (yield from edit_events.apply(studio, panel, Edit(index, "delete"), v, clips)),
                 {panel.state}, outputs, show_progress="hidden", **PRIVATE)
    new_words = gr.Textbox(label="A new part after this one: its words", lines=1, max_lines=4, interactive=True)
    speaker = gr.Dropdown(speakers, value=part.speaker, label="Spoken by", visible=bool(speakers), interactive=True)
    add = gr.Button("Add the part", size="sm", min_width=0, elem_classes="hvs-edit-do")
    add.click(lambda v: (yield from edit_events.apply(
        studio, panel, Edit(index, "add", text=v[new_words] or None, speaker=v[speaker]), v, clips)),
        {new_words, speaker, *inputs}, outputs, show_progress="hidden", **PRIVATE)
