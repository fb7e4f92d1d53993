"""Every failure in a callback becomes a readable message on the page (or for the API caller)."""

from __future__ import annotations

import logging

import gradio as gr
from gradio.exceptions import InvalidPathError

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


def hide_server_paths(demo: gr.Blocks) -> None:
    """Gradio refuses a file path that was not uploaded (an API caller can send any path) with a message
    naming the full path and the server's folders. Reword it before the caller sees it."""
    plain = demo.preprocess_data

    async def preprocess_data(*args, **kwargs):
        try:
            return await plain(*args, **kwargs)
        except InvalidPathError:
            raise gr.Error("A file in the request was not uploaded with it: upload the file with the request "
                           "(gradio_client: handle_file(...)); paths on the server are not accepted.",
                           print_exception=False) from None

    demo.preprocess_data = preprocess_data
