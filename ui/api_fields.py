"""The hidden components that give the gradio_client / MCP endpoints named, typed parameters, made so that a
wrong JSON type reaches request validation as it came (refused there in words, as at every door)."""

from __future__ import annotations

import gradio as gr


def api_number(name: str) -> gr.Number:
    """A hidden API number that hands JSON's true/false on unchanged (gr.Number would read true as 1), so
    that request validation refuses them as it does at every front door.
    (Patched on the instance: a gr.Number subclass would make Gradio write a .pyi stub into ui/.)"""
    number = gr.Number(None, label=name)
    plain = number.preprocess
    number.preprocess = lambda payload: payload if isinstance(payload, bool) else plain(payload)
    number.api_info_as_input = lambda: _or_null("number")
    return number


def api_text(name: str) -> gr.Textbox:
    """A hidden API text field that hands a number or a list on unchanged (gr.Textbox would make 123 the
    text "123"), so that request validation refuses it as the worker does."""
    box = gr.Textbox(label=name)
    plain = box.preprocess
    box.preprocess = lambda payload: plain(payload) if payload is None or isinstance(payload, str) else payload
    box.api_info_as_input = lambda: _or_null("string")
    return box


def _or_null(kind: str) -> dict:
    """The parameter's type in the API info, null allowed: null is the default at every door, and the MCP
    server checks a tool's arguments against this schema ("None is not of type 'number'")."""
    return {"anyOf": [{"type": kind}, {"type": "null"}]}


def whole_number(value: float | bool | None) -> int | float | bool | None:
    """gr.Number hands over floats; a whole number becomes an int, anything else (a fraction, true/false)
    is left as it came for validation to refuse."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not float(value).is_integer():
        return value  # (a list or a string reaches validation as it came, which names its wrong type)
    return int(value)
