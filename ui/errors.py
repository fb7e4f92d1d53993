"""Every failure in a callback becomes a readable message on the page (or for the API caller)."""

from __future__ import annotations

import logging

import gradio as gr

from inference.errors import StudioError

log = logging.getLogger(__name__)

_JARGON = ("Invalid request: ",)  # the request schema's prefix, meant for API callers


def readable(err: Exception) -> str:
    """One plain sentence for a visitor: known failures say what to fix, anything else is logged."""
    if isinstance(err, gr.Error):  # already worded for the visitor
        return str(err.message)
    if isinstance(err, StudioError):
        text = str(err)
        for prefix in _JARGON:
            text = text.removeprefix(prefix)
        return text  # a field name may come first ("temperature must be ..."): API callers read it as is
    log.exception("unexpected failure", exc_info=err)
    return f"Something went wrong on the server ({type(err).__name__}). Please try again."


def raise_readable(err: Exception) -> None:
    """Every failure becomes a readable message on the page; the server keeps serving."""
    if isinstance(err, gr.Error):
        raise err
    raise gr.Error(readable(err), print_exception=False) from None
