"""The Voice tab's inputs watched as they change: a clip checked when it arrives, consent for one clip, a
problem in the status line cleared when its input changes, the text kept over a reload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from studio.clip_check import ClipVerdict, check_reference

if TYPE_CHECKING:
    from .voice_tab import Controls

PRIVATE = {"api_visibility": "private"}
QUICK = {"api_visibility": "private", "queue": False, "show_progress": "hidden"}


def clear_problem(status: str | None):
    """The status line's problem (a line starting with the warning sign) goes when an input changes."""
    return "" if (status or "").startswith("⚠️") else gr.skip()


def wire_clip_check(c: Controls) -> None:
    """A clip is read when it arrives: one that cannot be read is dropped with a plain sentence, a short or
    long one gets a warning. Consent is for one clip: removing it (to swap in another) unticks the box."""

    def check(clip: str | None) -> dict:
        verdict = check_reference(clip) if clip else ClipVerdict()
        if verdict.problem:
            return {c.clip: None, c.consent: False, c.status: f"⚠️ {verdict.problem}"}
        return {c.status: f"⚠️ {verdict.warning}" if verdict.warning else ""}

    for event in (c.clip.upload, c.clip.stop_recording):
        event(check, c.clip, {c.clip, c.consent, c.status}, **QUICK)
    c.clip.clear(lambda: False, None, c.consent, **QUICK)


def keep_text(demo: gr.Blocks, text: gr.Textbox, last_text: gr.BrowserState) -> None:
    """The text to speak is kept in the visitor's browser and comes back after a reload."""
    text.change(lambda value: value, text, last_text, trigger_mode="always_last", **QUICK)
    demo.load(lambda saved: saved or gr.skip(), last_text, text, queue=False, **PRIVATE)
