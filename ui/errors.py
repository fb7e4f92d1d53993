"""Every failure in a callback becomes a readable message on the page (or for the API caller)."""

from __future__ import annotations

import logging

import gradio as gr
import httpx
import pydantic
from gradio.exceptions import InvalidPathError

from inference.contract.errors import StudioError

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


def problem_line(err: Exception) -> str:
    """The failure as a status line: a warning sign and one sentence."""
    text = readable(err)
    return f"⚠️ {text[:1].upper()}{text[1:]}"


def raise_readable(err: Exception) -> None:
    """Every failure becomes a readable message on the page; the server keeps serving."""
    if isinstance(err, gr.Error):
        raise err
    raise gr.Error(readable(err), print_exception=False) from None


def hide_server_paths(demo: gr.Blocks) -> None:
    """Gradio refuses a file path that was not uploaded (an API caller can send any path) with a message
    naming the full path and the server's folders. Reword it before the caller sees it."""
    plain = demo.preprocess_data

    async def preprocess_data(*args, **kwargs):
        try:
            return await plain(*args, **kwargs)
        except (InvalidPathError, pydantic.ValidationError):  # (the latter: a bare string where a file goes)
            raise gr.Error("A file in the request was not uploaded with it: upload the file with the request "
                           "(gradio_client: handle_file(...)); paths on the server are not accepted.",
                           print_exception=False) from None
        except (httpx.HTTPError, ValueError) as err:  # a file given by URL, which Gradio fetches (safehttpx)
            if isinstance(err, ValueError) and "hostname" not in str(err).lower():  # safehttpx's refusals name it
                raise
            log.info("a file URL in a request could not be fetched: %s", err)
            raise gr.Error("A file given by URL could not be fetched: the URL must be public (not a local or "
                           "private address) and answer with the file. Or upload the file with the request.",
                           print_exception=False) from None

    demo.preprocess_data = preprocess_data
