"""`/revise` for gradio_client and MCP: a take's recipe edited part by part (or rendered again), returning the
take, its subtitles and the new recipe. The recipe is the whole state: send back the one you were given.
The edit itself is the service's (Studio.revise, studio/revise.py); this only translates named parameters."""

from __future__ import annotations

import gradio as gr

from inference.contract.request import optional_text
from studio.revise import Edit, recipe_object
from studio.service import Studio

from .abandon import run_while_caller_waits
from .api_fields import api_number as _number
from .api_fields import api_text as _text
from .api_fields import whole_number as _whole
from .errors import raise_readable

REVISE_DESCRIPTION = """Edit a take from its recipe (as /synthesize_recipe, /dialogue_recipe or /revise returned it) and
return (24 kHz WAV, WebVTT subtitles, SRT subtitles, the new recipe). `action`: regenerate (default: part `part` made
anew with `seed`, random when empty, and new words when `text` is given), choose (`variant`), pause (`pause_s` of
silence before `part`), delete, add (a new part after `part`, -1 = first, saying `text`, spoken by `speaker` in a
dialogue), render (the take as it is). Parts and variants count from 0. A part made anew needs the take's
reference clips again (`clips`), matched by their sha256; a preset voice is found by itself. See docs/editing.md."""


def wire_revise_api(studio: Studio) -> None:
    with gr.Column(visible=False):
        recipe, action, text, speaker = (_text(name) for name in ("recipe", "action", "text", "speaker"))
        part, seed, variant, pause_s = (_number(name) for name in ("part", "seed", "variant", "pause_s"))
        clips = gr.File(label="clips", file_count="multiple", type="filepath")
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        vtt, srt, new_recipe = gr.File(label="vtt"), gr.File(label="srt"), gr.JSON(label="recipe")
        trigger = gr.Button()

    async def revise(recipe: str, part: int | None = None, action: str | None = None, text: str | None = None,
                     seed: int | None = None, variant: int | None = None, pause_s: float | None = None,
                     speaker: str | None = None, clips: list[str] | None = None) -> tuple[str, str, str, dict]:
        """Edit one part of a take from its recipe; returns (24 kHz WAV, WebVTT, SRT, the new recipe).

        Args:
            recipe: The take's recipe: the JSON object (or its text) a take came with.
            part: Which part (from 0); for action "add", the part the new one follows (-1 = first).
            action: regenerate (default), choose, pause, delete, add, or render.
            text: New words for the part (regenerate) or the new part's words (add); empty keeps the words.
            seed: Seed of the part made anew; empty draws one.
            variant: For choose: which of the part's variants (from 0; at most 4 are kept).
            pause_s: For pause: seconds of silence before the part, 0-5.
            speaker: For add in a dialogue: who speaks the new part (default: the part before's speaker).
            clips: The take's reference clips again (URLs or files), needed to make a part anew.
        """
        try:
            for name, value in (("action", action), ("text", text), ("speaker", speaker)):
                optional_text(name, value)
            verb = (action or "").strip() or "regenerate"
            if verb == "render":
                edited = await run_while_caller_waits(lambda cancel: studio.render(recipe))
            else:
                edit = Edit(part=_whole(part), action=verb, text=text if text and text.strip() else None,
                            seed=_whole(seed), variant=_whole(variant), pause_s=pause_s, speaker=speaker or None)
                edited = await run_while_caller_waits(lambda cancel: studio.revise(recipe, edit, clips or [], cancel))
        except Exception as err:  # noqa: BLE001
            raise_readable(err)
        return str(edited.path), *edited.subtitle_files, recipe_object(edited.result)

    trigger.click(revise, [recipe, part, action, text, seed, variant, pause_s, speaker, clips],
                  [audio, vtt, srt, new_recipe], api_name="revise", api_description=REVISE_DESCRIPTION)
