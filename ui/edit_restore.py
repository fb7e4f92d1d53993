"""A loaded recipe's voices, picked again on its tab: a preset (found by its clip's hash), a trained voice, a
described voice, the smart voice; a reference clip is asked for again (a recipe never holds audio), and a clip
already in the tab's box is checked against the recipe's hash, with a sentence either way."""

from __future__ import annotations

from pathlib import Path

from inference.contract.errors import InvalidRequest
from inference.contract.recipe import Recipe, VoiceRef, clip_sha256
from studio.service import Studio
from studio.voices import DESCRIBED, PRESET, SMART

from . import dialogue, library
from .edit_events import Clips
from .edit_take import EditPanel, build_panel


def _clip_note(ref: VoiceRef, clip: str | None, whose: str) -> str:
    seconds = f"{ref.clip_s:.1f} s" if ref.clip_s else "a clip"
    if clip and Path(clip).is_file() and clip_sha256(Path(clip)) == ref.clip_sha256:
        return f"{whose} is the clip in its box."
    if clip:
        return (f"The clip in the box is not {whose.lower()} ({seconds}): its sha256 differs. Upload or record the "
                "very clip the take was made with to make parts anew; playing and choosing variants need no clip.")
    return (f"{whose} is a clip ({seconds}) that the recipe does not hold: upload it again in its box to make "
            "parts anew; playing and choosing variants need no clip.")


def voice_choice(studio: Studio, recipe: Recipe, clip: str | None) -> tuple[dict, str]:
    """The Voice tab's choices for a loaded single-voice recipe (mode, preset, description, clip by name) and a
    sentence about them. `clip`: the clip now in the tab's box."""
    if recipe.dialogue:
        raise InvalidRequest("This recipe is a dialogue's: load it in the Dialogue tab.")
    ref = recipe.voice
    if ref is None:
        return {"mode": SMART, "clip": None}, "The smart voice speaks it."
    if ref.clip_sha256:
        name = studio.recipe_presets(recipe).get(None)
        if name:
            return {"mode": PRESET, "preset": name, "clip": None}, "Its preset voice is picked."
        return {}, _clip_note(ref, clip, "This take's voice")
    if ref.adapter:  # a trained voice is offered among the presets (ui/voice_panel.py)
        if ref.adapter not in {voice.name for voice in studio.resolver.trained}:
            return {}, (f"This take's trained voice {ref.adapter!r} is not on this studio: playing and choosing "
                        "variants work, making parts anew needs the studio it was trained on.")
        return {"mode": PRESET, "preset": ref.adapter, "clip": None}, "Its trained voice is picked."
    return {"mode": DESCRIBED, "description": ref.description, "clip": None}, "Its described voice is picked."


def voice_panel(studio: Studio, *, player, mode, preset, description, clip) -> EditPanel:
    """The Voice tab's panel: its clip box is the take's clip; a loaded recipe picks the voice again."""

    def restore(recipe: Recipe, v: dict) -> tuple[dict, str]:
        picked, note = voice_choice(studio, recipe, v[clip])
        fields = {"mode": mode, "preset": preset, "description": description, "clip": clip}
        return {fields[name]: value for name, value in picked.items()}, note

    def clips(v: dict, recipe: Recipe) -> list:
        """The clip box's clip, when the take's voice is a clip of the visitor's own (a preset's is found by
        the studio; a clip put in the box since a preset or described voice spoke the take is not sent)."""
        ref = recipe.voice
        own = ref is not None and ref.clip_sha256 and None not in studio.recipe_presets(recipe)
        return [v[clip]] if own and v[clip] else []

    return build_panel(studio, prefix="hvs", player=player, clips=Clips([clip], clips), restore=restore,
                       restore_inputs=[clip], restore_outputs=[mode, preset, description, clip])


def dialogue_panel(studio: Studio, *, player, script, slots: list, saved_voices) -> EditPanel:
    """The Dialogue tab's panel: the speakers' clip boxes (or saved voices) are the take's clips; a loaded
    recipe fills the script and picks each speaker's voice again."""
    pickers = [picker for _, picker, _, _ in slots]
    boxes = [clip for _, _, clip, _ in slots]

    def restore(recipe: Recipe, v: dict) -> tuple[dict, str]:
        if not recipe.dialogue:
            raise InvalidRequest("This recipe is a single voice's take: load it in the Voice tab.")
        names, _ = dialogue.speakers_of(recipe.text)
        refs = {name.casefold(): ref for name, ref in (recipe.speakers or {}).items()}
        presets = {name.casefold(): preset for name, preset in studio.recipe_presets(recipe).items() if name}
        updates, notes = {script: recipe.text}, []
        for name, picker, box in zip(names, pickers, boxes, strict=False):
            ref = refs.get(name.casefold())
            if ref is None:
                updates[picker] = dialogue.SMART_CHOICE
            elif name.casefold() in presets:
                updates[picker] = f"preset:{presets[name.casefold()]}"
            elif ref.clip_sha256:
                updates[picker] = dialogue.CLIP_CHOICE
                notes.append(_clip_note(ref, v[box], f"{name}'s voice"))
            else:
                updates[picker] = ref.description or dialogue.SMART_CHOICE
        return updates, " ".join(notes) or "Its voices are picked."

    clips = Clips([*pickers, *boxes, saved_voices], lambda v, _: _dialogue_clips(slots, saved_voices, v))
    return build_panel(studio, prefix="hvs-dlg", player=player, clips=clips, restore=restore, restore_inputs=boxes,
                       restore_outputs=[script, *pickers])


def _dialogue_clips(slots: list, saved_voices, v: dict) -> list:
    """The clips the Dialogue tab's pickers name: a box's clip ("clone a clip"; a hidden slot's old clip stays
    out) or a saved voice's."""
    clips = []
    for _, picker, clip, _ in slots:
        kind, _, name = (v[picker] or "").partition(":")
        if v[picker] == dialogue.CLIP_CHOICE and v[clip]:
            clips.append(v[clip])
        elif kind == "saved":
            clips.append(str(library.to_file(library.find(v[saved_voices], name))))
    return clips
