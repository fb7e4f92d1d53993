"""Every failure in a callback becomes a readable message on the page (or for the API caller)."""

from __future__ import annotations

import logging

import gradio as gr

from inference.errors import StudioError

log = logging.getLogger(__name__)


def raise_readable(err: Exception) -> None:
    """Every failure becomes a readable message on the page; the server keeps serving."""
    if isinstance(err, gr.Error):  # already worded for the visitor
        raise err
    if isinstance(err, StudioError):
        raise gr.Error(str(err), print_exception=False) from None
    log.exception("unexpected failure")
    raise gr.Error(f"Something went wrong on the server ({type(err).__name__}). Please try again.") from None
