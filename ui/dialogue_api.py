"""`/dialogue` and `/dialogue_recipe` for gradio_client and MCP: the Dialogue tab's take from named parameters."""

from __future__ import annotations

import inspect
import json

import gradio as gr

from inference.contract.errors import InvalidRequest
from inference.contract.request import DEFAULT_PAUSE_S, MAX_TEXT_CHARS, optional_text
from inference.prompting.script import MAX_SPEAKERS
from studio.revise import recipe_object
from studio.service import Studio
from studio.take_request import TakeRequest

from . import dialogue as dialogue_tab
from .abandon import run_while_caller_waits
from .api_fields import api_number, api_text, whole_number
from .errors import raise_readable

DIALOGUE_DESCRIPTION = """Speak a dialogue `script` and return (24 kHz WAV, WebVTT subtitles, SRT subtitles).

`script`: one line per turn, `Alice: Hello.` or `[SPEAKER0] Hello.`; a line without a name continues the turn;
at most {max_speakers} speakers and {max_chars} characters. `speakers` (optional, JSON object): speaker name ->
a voice name ({voices}), words describing a voice, "" for a smart voice, or {{"clip": i, "reference_text":
"..."}} for the i-th file of `clips`. Speakers left out get a smart voice. Also `scene`, `tone` ({tones}),
`setting` ({settings}), `pause_s` (seconds between turns, default {pause}), `voice_layout` (scene = official,
separate = only the speaking voice in each turn's prompt), `seed`, `temperature`, `top_p`, `top_k`,
`max_new_tokens` (per turn). By sending clips you confirm you have the right to use those voices."""


def wire_dialogue_api(studio: Studio) -> None:
    """`/dialogue` for gradio_client: the Dialogue tab's take from named parameters."""
    with gr.Column(visible=False):
        # (a number, a list or an object reaches validation as it came, never str()-ed into words to speak)
        script, speakers = api_text("script"), api_text("speakers")
        clips = gr.File(label="clips", file_count="multiple", type="filepath")
        scene, tone, setting, voice_layout = (api_text(name) for name in ("scene", "tone", "setting", "voice_layout"))
        numbers = [api_number(name) for name in ("pause_s", "seed", "temperature", "top_p", "top_k", "max_new_tokens")]
        audio = gr.Audio(label="audio", type="filepath", format="wav")
        vtt, srt = gr.File(label="vtt"), gr.File(label="srt")
        trigger, trigger_recipe, recipe = gr.Button(), gr.Button(), gr.JSON(label="recipe")

    dialogue, dialogue_recipe = _endpoints(studio)
    description = DIALOGUE_DESCRIPTION.format(
        max_speakers=MAX_SPEAKERS, max_chars=MAX_TEXT_CHARS, voices=", ".join(studio.resolver.names()),
        tones=", ".join(studio.presets.tones) or "none", settings=", ".join(studio.presets.settings) or "none",
        pause=DEFAULT_PAUSE_S)
    given = [script, speakers, clips, scene, tone, setting, voice_layout, *numbers]
    trigger.click(dialogue, given, [audio, vtt, srt], api_name="dialogue", api_description=description)
    trigger_recipe.click(dialogue_recipe, given, [audio, vtt, srt, recipe], api_name="dialogue_recipe",
                         api_description=description.replace("and return (24 kHz WAV, WebVTT subtitles, SRT subtitles)",
                                                             "and return (24 kHz WAV, WebVTT, SRT, the take's recipe)"))


def _speakers_object(speakers: str | None) -> dict:
    """The `speakers` parameter's JSON text -> its object; {} when empty."""
    try:
        given = json.loads(speakers) if speakers and speakers.strip() else {}
    except json.JSONDecodeError as err:
        raise InvalidRequest(f"speakers is not valid JSON ({err.msg} at character {err.pos}).") from None
    except RecursionError:  # arrays nested 10^5 deep
        raise InvalidRequest("speakers is nested too deeply to be a speaker list.") from None
    if not isinstance(given, dict):
        raise InvalidRequest('speakers must be a JSON object, e.g. {"Alice": "robot_en", "Bob": "calm voice"}.')
    return given


def _endpoints(studio: Studio) -> tuple:
    """/dialogue and /dialogue_recipe, with one parameter list."""

    # (named like its endpoint: Gradio's MCP server names the tool after the function)
    async def dialogue_recipe(script: str, speakers: str | None = None, clips: list[str] | None = None,
                       scene: str | None = None, tone: str | None = None, setting: str | None = None,
                       voice_layout: str | None = None, pause_s: float | None = None, seed: int | None = None,
                       temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
                       max_new_tokens: int | None = None) -> tuple[str, str, str, dict | None]:
        """Speak a dialogue script; returns (24 kHz WAV, WebVTT subtitles, SRT subtitles) and the take's recipe (to edit it with /revise).

        Args:
            script: One line per turn, "Alice: Hello." or "[SPEAKER0] Hello."; a line without a name continues the turn.
            speakers: JSON object, speaker name -> a voice name (a preset, a described voice, an OpenAI name such as alloy), words describing a voice, "" for a smart voice, or {"clip": i, "reference_text": "..."} for the i-th file of clips.
            clips: Reference clips (URLs or uploaded files) that speakers point at by index; sending them confirms you may use those voices.
            scene: Free-text scene for the whole dialogue, e.g. "Audio is recorded from a quiet room."
            tone: A tone preset name, or empty.
            setting: A recording-setting preset name, or empty.
            voice_layout: "scene" (official: every voice in the prompt) or "separate" (only the speaking voice).
            pause_s: Seconds of silence between turns, 0-5.
            seed: Whole number; the same seed and inputs give the same dialogue. Empty draws a fresh seed.
            temperature: Sampling temperature 0-2 (0 = greedy); default 0.7.
            top_p: Nucleus sampling 0-1; default 0.95.
            top_k: Top-k sampling (0 turns it off); default 50.
            max_new_tokens: Length limit per turn in audio frames, 25 per second of audio.
        """
        try:
            for name, value in (("script", script), ("speakers", speakers), ("scene", scene), ("tone", tone),
                                ("setting", setting), ("voice_layout", voice_layout)):
                optional_text(name, value)
            voices = dialogue_tab.api_speakers(_speakers_object(speakers), clips)
            options = {"pause_s": pause_s, "voice_layout": (voice_layout or "").strip() or None,
                       "temperature": temperature, "top_p": top_p, "top_k": whole_number(top_k),
                       "max_new_tokens": whole_number(max_new_tokens)}
            request = studio.prepare(TakeRequest(script or "", speakers=voices, tone=tone, setting=setting,
                                                 scene=scene, seed=whole_number(seed), options=options))
            # the dialogue stops when the caller cancels or goes away (see abandon.py)
            take = await run_while_caller_waits(lambda cancel: studio.dialogue_file(request, cancel))
        except Exception as err:  # noqa: BLE001
            raise_readable(err)
        return str(take.path), *take.subtitle_files, recipe_object(take.result)

    async def dialogue(*args, **kwargs) -> tuple[str, str, str]:
        return (await dialogue_recipe(*args, **kwargs))[:3]

    dialogue.__signature__ = inspect.signature(dialogue_recipe).replace(return_annotation=tuple[str, str, str])
    dialogue.__doc__ = dialogue_recipe.__doc__.replace(" and the take's recipe (to edit it with /revise)", "")
    return dialogue, dialogue_recipe
