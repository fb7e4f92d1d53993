"""My voices: the visitor's saved clips (kept in their browser, see library.py) as one-click choices above the
clip box, and a small panel to save, rename, delete (with undo) them. Consent given for a clip is saved with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from . import library
from .errors import readable

PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


@dataclass
class MyVoices:
    library: gr.BrowserState
    picker: gr.Radio
    loaded: gr.State  # the saved voice now in the clip box ("" for a clip of its own): names the takes
    name: gr.Textbox | None = None
    note: gr.Markdown | None = None
    deleted: gr.State | None = None
    save_btn: gr.Button | None = None
    rename_btn: gr.Button | None = None
    delete_btn: gr.Button | None = None
    undo_btn: gr.Button | None = None


def build_picker(browser_secret: str | None) -> MyVoices:
    """The saved voices as one-click choices; hidden until the browser's library has one."""
    return MyVoices(
        library=gr.BrowserState([], storage_key="hvs-voice-library", secret=browser_secret),
        picker=gr.Radio([], value=None, label="My voices", visible=False, elem_id="hvs-my-voices",
                        info="Saved in this browser. Click one to use it."),
        loaded=gr.State(""),
    )


def build_manager(mv: MyVoices) -> None:
    with gr.Accordion("Save or manage my voices (kept only in this browser)", open=False, elem_id="hvs-manage"):
        mv.name = gr.Textbox(label="Name", max_lines=1, elem_id="hvs-voice-name",
                             placeholder="A name to save this clip under, or a new name for the voice picked above")
        with gr.Row():
            mv.save_btn = gr.Button("Save this clip", size="sm", min_width=80)
            mv.rename_btn = gr.Button("Rename", size="sm", min_width=80)
            mv.delete_btn = gr.Button("Delete", size="sm", variant="stop", min_width=80)
            mv.undo_btn = gr.Button("Undo delete", size="sm", visible=False, min_width=80)
        mv.note = gr.Markdown(elem_id="hvs-library-note")
        mv.deleted = gr.State(None)


def picker_update(entries: list[dict] | None, selected: str | None = None) -> gr.Radio:
    names = library.names(entries)
    return gr.Radio(names, value=selected if selected in names else None, visible=bool(names))


def wire(mv: MyVoices, demo: gr.Blocks, clip: gr.Audio, clip_text: gr.Textbox, consent: gr.Checkbox) -> None:
    demo.load(picker_update, mv.library, mv.picker, queue=False, **PRIVATE)  # the library arrives with the page
    _wire_picker(mv, clip, clip_text, consent)
    _wire_edits(mv, clip, clip_text, consent)


def _wire_picker(mv: MyVoices, clip: gr.Audio, clip_text: gr.Textbox, consent: gr.Checkbox) -> None:
    """A saved voice picked fills the clip boxes; a new clip over it forgets it."""

    def use(v: dict) -> dict:
        """Picking a voice never writes the name box: the box sits in a closed accordion, and Gradio 6.31 keeps a
        value sent to a component not yet shown and applies it only once the page settles after the accordion
        opens, so it replaced what the visitor had typed by then. The box holds only what the visitor types."""
        try:
            entry = library.find(v[mv.library], v[mv.picker])
            return {clip: str(library.to_file(entry)), clip_text: entry.get("transcript", ""),
                    consent: bool(entry.get("consent")), mv.loaded: entry["name"], mv.note: ""}
        except Exception as err:  # noqa: BLE001
            return {mv.note: f"⚠️ {readable(err)}"}

    mv.picker.input(use, {mv.library, mv.picker}, {clip, clip_text, consent, mv.loaded, mv.note}, **PRIVATE)

    def new_clip(loaded: str) -> dict:
        """A clip recorded or uploaded over a saved voice is a new voice: its consent is asked again."""
        if not loaded:
            return {mv.loaded: ""}  # nothing to forget (an empty dict would read as one missing value)
        return {mv.loaded: "", consent: False, mv.picker: gr.Radio(value=None)}

    for event in (clip.upload, clip.stop_recording, clip.clear):
        event(new_clip, mv.loaded, {mv.loaded, consent, mv.picker}, queue=False, **PRIVATE)


def _wire_edits(mv: MyVoices, clip: gr.Audio, clip_text: gr.Textbox, consent: gr.Checkbox) -> None:
    """Save, rename, delete and undo, each a button over the library kept in the browser."""

    def action(fn):
        """Library edits report in one line under the buttons (cleared by the next edit); undo only follows
        a delete."""
        def run(v: dict) -> dict:
            try:
                return {mv.undo_btn: gr.Button(visible=False), **fn(v)}
            except Exception as err:  # noqa: BLE001
                return {mv.note: f"⚠️ {readable(err)}", mv.undo_btn: gr.Button(visible=False)}
        return run

    @action
    def save(v: dict) -> dict:
        if not v[clip]:
            raise gr.Error("Record or upload a clip first, then save it.")
        entry = library.make_entry(v[clip], v[mv.name], v[clip_text], consent=v[consent])
        replaced = entry["name"] in library.names(v[mv.library])
        entries = library.save(v[mv.library], entry)
        return {mv.library: entries, mv.picker: picker_update(entries, entry["name"]), mv.loaded: entry["name"],
                mv.note: f"{'Replaced' if replaced else 'Saved'} **{entry['name']}** in this browser."}

    @action
    def rename(v: dict) -> dict:
        old = v[mv.picker]
        entries = library.rename(v[mv.library], old, v[mv.name])
        new = " ".join((v[mv.name] or "").split())
        return {mv.library: entries, mv.picker: picker_update(entries, new),
                mv.loaded: new if v[mv.loaded] == old else v[mv.loaded], mv.note: f"Renamed **{old}** to **{new}**."}

    @action
    def delete(v: dict) -> dict:
        entry = library.find(v[mv.library], v[mv.picker])
        entries = library.delete(v[mv.library], entry["name"])
        return {mv.library: entries, mv.picker: picker_update(entries), mv.deleted: entry, mv.name: "",
                mv.loaded: "" if v[mv.loaded] == entry["name"] else v[mv.loaded],
                mv.note: f"Deleted **{entry['name']}**.", mv.undo_btn: gr.Button(visible=True)}

    @action
    def undo(v: dict) -> dict:
        entry = v[mv.deleted]
        if not entry:
            raise gr.Error("There is nothing to undo.")
        entries = library.save(v[mv.library], entry)
        return {mv.library: entries, mv.picker: picker_update(entries, entry["name"]), mv.deleted: None,
                mv.name: entry["name"], mv.note: f"Restored **{entry['name']}**."}

    inputs = {clip, clip_text, consent, mv.library, mv.picker, mv.name, mv.loaded, mv.deleted}
    outputs = {mv.library, mv.picker, mv.name, mv.loaded, mv.deleted, mv.note, mv.undo_btn}
    for button, fn in ((mv.save_btn, save), (mv.rename_btn, rename), (mv.delete_btn, delete), (mv.undo_btn, undo)):
        button.click(fn, inputs, outputs, **PRIVATE)
