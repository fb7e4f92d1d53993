"""What the *Edit this take* panel does (its layout is ui/edit_take.py): each action is one call of the studio
(Studio.revise, Studio.render), and its answer becomes the panel's state and the tab's player.

The panel's state is one gr.State per tab: {"recipe": the take's recipe as JSON, "take": its WAV, "files":
the downloads}. The server keeps nothing else: the recipe is the whole take. A part made anew needs the take's
reference clips again: the clips in the tab's own boxes (`Clips`), still in the visitor's session, are sent
(the studio matches them to the recipe by their sha256 and says so when one differs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import soundfile

from inference.contract.recipe import MAX_RECIPE_BYTES, Recipe, load_recipe
from inference.contract.result import SynthesisResult
from studio.revise import Edit, save_subtitles
from studio.service import Studio

from .errors import problem_line

log = logging.getLogger(__name__)


@dataclass
class Clips:
    """The tab's components that hold its voices' clips, and how their values become the clips to send."""

    inputs: list
    of: Callable[[dict, Recipe], list]  # ({component: value}, the take's recipe) -> the clips (paths) to send


def fresh_state(studio: Studio, result: SynthesisResult, path: Path | str) -> dict | None:
    """A finished take as the panel's state, its recipe and subtitles saved beside it (None: no recipe, as from
    a remote backend)."""
    recipe = getattr(result, "recipe", None)
    if recipe is None:
        return None
    try:
        files = [str(path), *save_subtitles(studio.takes, result, Path(path).stem)]
        return _state(studio, recipe, str(path), files)
    except Exception:  # noqa: BLE001 - the take itself is shown all the same; only its panel stays empty
        log.exception("the take's recipe and subtitles could not be saved")
        return None


def _state(studio: Studio, recipe: Recipe, take: str, files: list[str]) -> dict:
    text = recipe.to_json()
    recipe_file = studio.takes.save_text(text, "json", stem=f"{Path(take).stem}.recipe")
    return {"recipe": text, "take": take, "files": [*files, str(recipe_file)]}


def edited_state(studio: Studio, edited) -> dict:
    """The panel's state after an edit (an EditedTake: the new WAV, its result and subtitles)."""
    return _state(studio, edited.result.recipe, str(edited.path), [str(edited.path), *edited.subtitle_files])


def downloads(state: dict) -> gr.File:
    return gr.File(state["files"], visible=True)


def recipe_of(state: dict | None) -> Recipe | None:
    return load_recipe(state["recipe"], renderable=False) if state else None  # the panel's own take, to play


def _said(index: int, edit: Edit) -> str:
    return {"regenerate": f"Making part {index + 1} again…" if edit.text is None
            else f"Making part {index + 1} with the new words…",
            "add": f"Making the new part after part {index + 1}…"}.get(edit.action, "Updating the take…")


def _done(edit: Edit) -> str:
    return {"regenerate": f"✓ Part {edit.part + 1}: a new variant, kept. Pick an earlier variant to go back.",
            "choose": f"✓ Part {edit.part + 1}: variant {(edit.variant or 0) + 1} kept.",
            "pause": f"✓ The pause before part {edit.part + 1} is now {edit.pause_s or 0:g} s.",
            "delete": f"✓ Part {edit.part + 1} removed.",
            "add": f"✓ A new part after part {edit.part + 1}."}[edit.action]


def apply(studio: Studio, panel, edit: Edit, v: dict, clips: Clips, play_part: int | None = None):
    """Runs one edit and yields the page's updates: a line while it runs, then the new take (and the edited
    part in the part player when `play_part` is given); a failure becomes a sentence in the panel."""
    yield {panel.status: _said(edit.part, edit)}
    try:
        state = v[panel.state]
        if not state:
            raise gr.Error("There is no take to edit yet: generate one, or load a recipe.")
        needs_clips = edit.action in ("regenerate", "add")
        sent = clips.of(v, recipe_of(state)) if needs_clips else []
        edited = studio.revise(state["recipe"], edit, clips=sent)
        new = edited_state(studio, edited)
        updates = {panel.state: new, panel.player: str(edited.path), panel.files: downloads(new),
                   panel.status: _done(edit)}
        if play_part is not None:
            updates[panel.part_player] = part_audio(studio, new, play_part)
        yield updates
    except Exception as err:  # noqa: BLE001 - every failure becomes a sentence in the panel
        yield {panel.status: problem_line(err)}


def part_audio(studio: Studio, state: dict, index: int) -> gr.Audio:
    """Part `index` alone, cut from the take at its place in it, for the part player."""
    part = recipe_of(state).parts[index]
    samples, rate = soundfile.read(state["take"], dtype="float32")
    start, end = int(round(part.start_s * rate)), int(round(part.end_s * rate))
    path = studio.takes.save(samples[start:end], rate, stem="part")
    return gr.Audio(str(path), label=f"Part {index + 1} ({part.start_s:.1f}-{part.end_s:.1f} s)", autoplay=True)


def play(studio: Studio, panel, index: int, state: dict | None) -> dict:
    try:
        return {panel.part_player: part_audio(studio, state, index), panel.status: ""}
    except Exception as err:  # noqa: BLE001
        return {panel.status: problem_line(err)}


def load(studio: Studio, panel, file: str | None, v: dict, restore: Callable[[Recipe, dict], tuple[dict, str]]):
    """A recipe file from the visitor: the take rendered again from it, the tab's voice picked as it was."""
    if not file:
        return
    yield {panel.status: "Reading the recipe…"}
    try:
        with open(file, "rb") as handle:
            data = handle.read(MAX_RECIPE_BYTES + 1)
        recipe = load_recipe(data)
        voice_updates, note = restore(recipe, v)  # refuses a recipe of the other tab's kind, before any work
        edited = studio.render(recipe)
        new = edited_state(studio, edited)
        count = f"{len(recipe.parts)} part{'s' if len(recipe.parts) != 1 else ''}"
        yield {panel.state: new, panel.player: str(edited.path), panel.files: downloads(new), **voice_updates,
               panel.status: f"✓ Recipe loaded: {count}. {note}"}
    except Exception as err:  # noqa: BLE001
        yield {panel.status: problem_line(err)}
