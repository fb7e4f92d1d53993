"""The documented endpoints for gradio_client, HTTP callers and MCP agents: `/synthesize` (the finished
take) and `/synthesize_stream` (chunks while generating, then the take), with one parameter list.

Hidden components give them named, typed parameters; they share scene composition and voice resolution
with the page, and every failure becomes a readable error message.
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import AsyncIterator

import gradio as gr
import soundfile as sf

from inference.contract.request import (
    MAX_CANDIDATES,
    MAX_TEXT_CHARS,
    optional_text,
)
from studio.revise import recipe_object
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.voices import VoiceSpec

from .abandon import run_while_caller_waits, stream_while_caller_waits
from .api_fields import api_number, api_text, whole_number
from .errors import raise_readable

API_DESCRIPTION = """Speak `text` and return a 24 kHz WAV file.

Parameters: `text` (required, at most {max_chars} characters; tags like [laugh] allowed), `reference_audio`
(optional file of the voice to clone), `reference_text` (its transcript), `scene` (free-text tone/scene),
`temperature`, `top_p`, `top_k`, `seed` (same seed + same inputs = same take), `max_new_tokens`
(25 per second of audio), `ras_win_len` / `ras_max_repeats` (repetition-aware sampling), and optionally `tone` ({tones}), `setting` ({settings}) and `voice`
(a voice name: {voices}; or words describing a voice; a reference clip wins over a name's clip),
`candidates` (1-{max_candidates}: makes that many takes with different seeds and returns the best-scored one),
`parts` ("sentence": every sentence a part of its own, to revise one at a time; default "length").
Blank/omitted options take the model's defaults. Errors come back as a readable message.
`/synthesize_checked` takes the same parameters and also returns the take check as JSON (words right,
missed/added words, voice similarity, for every candidate with its seed). Every take is watermarked.

By calling this endpoint with a reference clip you confirm you have the right to use that voice
(the same terms the page asks visitors to accept)."""


SYNTHESIZE_DOC = """Speak a text with Higgs Audio V2 and return the take as a 24 kHz WAV file (its URL).
"""
STREAM_DOC = """Speak a text and stream it: yields (audio chunk, {"final": false, "chunk": n, ...}) as the audio is
generated, then (the whole take, {"final": true, "seed": ..., "duration_s": ..., "warnings": [...]}).
"""
RECIPE_DOC = """Speak a text as /synthesize does and return (the take as a 24 kHz WAV file, the take's recipe): a JSON
object that renders the same take again and edits it part by part with /revise (see docs/editing.md).
"""
CHECKED_DOC = """Speak a text, score the take (words heard by Whisper against the text, voice similarity to the
reference) and return (the take as a 24 kHz WAV file, the take-check report with every candidate's seed and scores).
"""
PARAMETERS_DOC = """
Args:
    text: What to say, at most 2000 characters. Tags such as [laugh] or [music] are allowed.
    reference_audio: URL (or uploaded file) of a clip of the voice to clone, 5-30 s of clear speech; leave empty for a preset, described or smart voice.
    reference_text: Exact transcript of the reference clip (the clone is closer with one).
    scene: Free-text tone or scene, e.g. "Audio is recorded from a quiet room. The speaker sounds cheerful."
    temperature: Sampling temperature 0-2 (0 = greedy); default 0.7.
    top_p: Nucleus sampling 0-1; default 0.95.
    top_k: Top-k sampling (0 turns it off); default 50.
    seed: Whole number; the same seed and inputs give the same take. Empty draws a fresh seed.
    max_new_tokens: Length limit in audio frames, 25 per second of audio; default 2048 (100 on tiny-random).
    tone: A tone preset name (see the API page), or empty.
    setting: A recording-setting preset name (see the API page), or empty.
    voice: A voice name (smart, a preset, a described voice, or an OpenAI name such as alloy) or several words describing a voice. A reference clip wins over a name's clip. Empty: the model picks a voice.
    ras_win_len: Repetition-aware sampling window (0 turns it off); default 7.
    ras_max_repeats: Repeats allowed inside that window; default 2.
    candidates: Best of N: make 1-4 takes with different seeds, score each and keep the best (needs the take check).
    parts: How a long text is cut into parts: "length" (~100 words a part, default) or "sentence" (every sentence a part of its own, to revise one sentence at a time with /revise).
"""


def take_request(text: str, reference_audio: str | None = None, reference_text: str | None = None,
                 scene: str | None = None, temperature: float | None = None, top_p: float | None = None,
                 top_k: int | None = None, seed: int | None = None, max_new_tokens: int | None = None,
                 tone: str | None = None, setting: str | None = None, voice: str | None = None,
                 ras_win_len: int | None = None, ras_max_repeats: int | None = None,
                 candidates: int | None = None, parts: str | None = None) -> TakeRequest:
    """The endpoints' one parameter list -> the studio's front request."""
    # the hidden inputs pass any JSON value through: a number or a list is refused, never str()-ed
    for name, value in (("reference_text", reference_text), ("scene", scene), ("tone", tone),
                        ("setting", setting), ("voice", voice), ("parts", parts)):
        optional_text(name, value)
    whole = {"top_k": top_k, "max_new_tokens": max_new_tokens, "ras_win_len": ras_win_len,
             "ras_max_repeats": ras_max_repeats, "candidates": candidates}
    options = {"temperature": temperature, "top_p": top_p, "parts": (parts or "").strip() or None,
               **{name: whole_number(value) for name, value in whole.items()}}
    return TakeRequest("" if text is None else text, VoiceSpec(name=voice, clip=reference_audio, clip_text=reference_text),
                       tone=tone, setting=setting, scene=scene, seed=whole_number(seed), options=options)


_NUMBERS = {"temperature", "top_p", "top_k", "seed", "max_new_tokens", "ras_win_len", "ras_max_repeats", "candidates"}


def _inputs() -> list[gr.components.Component]:
    """take_request's parameters as hidden components, in its order. No `precision` on whole-number fields: it
    would round 2.5 to 2 silently; validation refuses it instead."""
    return [gr.File(label=name, type="filepath") if name == "reference_audio" else
            api_number(name) if name in _NUMBERS else api_text(name)
            for name in inspect.signature(take_request).parameters]


def wire_api(studio: Studio) -> None:
    """The documented take endpoints for gradio_client and MCP. Hidden components give them named, typed
    parameters."""
    with gr.Column(visible=False):
        inputs = _inputs()
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        chunk = gr.Audio(label="audio", type="filepath", format="wav")
        take_info, report, recipe = gr.JSON(label="take"), gr.JSON(label="take_check"), gr.JSON(label="recipe")
        trigger, stream_trigger, trigger_checked, trigger_recipe = (gr.Button() for _ in range(4))
    synthesize, synthesize_stream, synthesize_checked, synthesize_recipe = _endpoints(studio)
    description = API_DESCRIPTION.format(
        max_chars=MAX_TEXT_CHARS, max_candidates=MAX_CANDIDATES, tones=", ".join(studio.presets.tones) or "none",
        settings=", ".join(studio.presets.settings) or "none", voices=", ".join(studio.resolver.names()))
    rest = description.partition("\n\n")[2]
    trigger.click(synthesize, inputs, audio, api_name="synthesize", api_description=description)
    stream_trigger.click(synthesize_stream, inputs, [chunk, take_info], api_name="synthesize_stream",
                         api_description=STREAM_DOC + "\n" + rest)
    trigger_checked.click(synthesize_checked, inputs, [audio, report], api_name="synthesize_checked",
                          api_description=CHECKED_DOC + "\n" + rest)
    trigger_recipe.click(synthesize_recipe, inputs, [audio, recipe], api_name="synthesize_recipe",
                         api_description=RECIPE_DOC + "\n" + rest)


def _endpoints(studio: Studio) -> tuple:
    """/synthesize, /synthesize_stream, /synthesize_checked and /synthesize_recipe, each with take_request's
    parameters (Gradio and its MCP server read the signature and docstring)."""

    async def make(check: bool, *args, **kwargs):
        try:
            request = studio.prepare(take_request(*args, **kwargs))
            # the take stops when the caller cancels or goes away (see abandon.py)
            return await run_while_caller_waits(lambda cancel: studio.synthesize_file(request, cancel, check=check))
        except Exception as err:  # noqa: BLE001
            raise_readable(err)

    async def synthesize(*args, **kwargs) -> str:
        path, _ = await make(False, *args, **kwargs)
        return str(path)

    async def synthesize_checked(*args, **kwargs) -> tuple[str, dict]:
        path, takes = await make(True, *args, **kwargs)
        return str(path), takes.report()

    async def synthesize_recipe(*args, **kwargs) -> tuple[str, dict | None]:
        path, takes = await make(False, *args, **kwargs)
        return str(path), recipe_object(takes.result)

    async def synthesize_stream(*args, **kwargs) -> AsyncIterator[tuple[bytes | str, dict]]:
        try:
            request = studio.prepare(take_request(*args, **kwargs))
            index, seconds = 0, 0.0
            # the take stops when the caller cancels, goes away or stops reading (see abandon.py)
            pieces = stream_while_caller_waits(lambda cancel: studio.generate(request, "api", None, cancel=cancel))
            async with contextlib.aclosing(pieces):  # closed with this generator, however it ends
                async for item in pieces:
                    if isinstance(item, bytes):
                        index += 1
                        seconds += sf.info(io.BytesIO(item)).duration
                        yield item, {"final": False, "chunk": index, "seconds_so_far": round(seconds, 3)}
                    else:
                        result = item.result
                        yield str(item.path), {"final": True, "chunks": index, "seed": result.seed,
                                               "duration_s": round(result.duration_s, 3),
                                               "warnings": result.warnings, "recipe": recipe_object(result)}
        except Exception as err:  # noqa: BLE001
            raise_readable(err)

    for fn, summary in ((synthesize, SYNTHESIZE_DOC), (synthesize_stream, STREAM_DOC),
                        (synthesize_checked, CHECKED_DOC), (synthesize_recipe, RECIPE_DOC)):
        fn.__signature__ = inspect.signature(take_request).replace(return_annotation=inspect.Signature.empty)
        fn.__doc__ = summary + PARAMETERS_DOC
    return synthesize, synthesize_stream, synthesize_checked, synthesize_recipe
