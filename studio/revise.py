"""A take edited through the service: its recipe rendered again, or one part made anew (a new seed, new words),
a variant chosen, a pause set, a part deleted or added; then the new take rendered and saved with its subtitles.

The recipe is the whole state: any replica or worker can serve the next edit. A recipe names clips by their
sha256 only, so a caller who makes a part anew sends the take's clips again: each clip sent is matched to the
take's voices by its hash (a preset voice's clip is found in the voice library by its own), and a clip that
is none of them is refused.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.audio import subtitles
from inference.contract.errors import InvalidRequest, StudioError
from inference.contract.recipe import Recipe, clip_sha256, load_recipe
from inference.contract.request import MAX_SEED, SynthesisRequest, optional_text
from inference.contract.result import SynthesisResult
from studio.editing import choose_variant, delete_part, fill_new_part, keep_variant, new_part, set_pause
from studio.takes import TakeStore
from studio.voice_library import VoiceLibrary

ACTIONS = ("regenerate", "choose", "pause", "delete", "add")
Clip = Path | str | bytes


@dataclass
class EditedTake:
    path: Path  # the take's WAV
    result: SynthesisResult  # result.recipe: the take's recipe after the edit
    subtitle_files: list[str]  # .vtt and .srt


@dataclass(frozen=True)
class Edit:
    """What to do to which part. `part` counts from 0 (for "add": the part the new one follows, -1 = first)."""

    part: Any
    action: str = "regenerate"
    text: str | None = None  # regenerate (new words) or add
    seed: Any = None  # regenerate or add; None draws one
    variant: Any = None  # choose
    pause_s: Any = None  # pause
    speaker: str | None = None  # add, in a dialogue


def revise_take(engine, library: VoiceLibrary, takes: TakeStore, recipe: Any, edit: Edit, clips: list[Clip] = (),
                cancel: threading.Event | None = None) -> EditedTake:
    """The recipe edited and rendered, saved with its subtitles."""
    return save_take(takes, edit_take(engine, library, recipe, edit, clips, cancel))


def edit_take(engine, library: VoiceLibrary, recipe: Any, edit: Edit, clips: list[Clip] = (),
              cancel: threading.Event | None = None) -> SynthesisResult:
    """The recipe (untrusted: any form load_recipe takes) edited and rendered. Raises InvalidRequest in words."""
    recipe = load_recipe(recipe)
    recipe.check_model(str(engine.model_id))
    if edit.action not in ACTIONS:
        raise InvalidRequest(f"Unknown edit {str(edit.action)[:40]!r}; an edit is one of: {', '.join(ACTIONS)}.")
    for name in ("text", "speaker"):  # a worker job's JSON may hold any type here
        optional_text(name, getattr(edit, name))
    index = recipe.check_part(edit.part, after=edit.action == "add")
    if edit.action == "choose":
        recipe = choose_variant(recipe, index, edit.variant)
    elif edit.action == "pause":
        recipe = set_pause(recipe, index, edit.pause_s)
    elif edit.action == "delete":
        recipe = delete_part(recipe, index)
    else:
        recipe = _generate(engine, library, recipe, index, edit, clips, cancel)
    return render_take(engine, recipe)


def render_take(engine, recipe: Any) -> SynthesisResult:
    """The take a recipe describes, from its codes alone (no clip needed)."""
    recipe = load_recipe(recipe)
    recipe.check_model(str(engine.model_id))
    recipe.check_length()  # an edit may have made it longer than the recipe that came in
    return _able(engine, "render").render(recipe)


def recipe_object(result: SynthesisResult) -> dict | None:
    """A take's recipe as a JSON object for a door to return (None from a backend that gives none)."""
    return json.loads(result.recipe.to_json()) if result.recipe is not None else None


def save_take(takes: TakeStore, result: SynthesisResult) -> EditedTake:
    path = takes.save(result.waveform, result.sample_rate, stem="edited")
    return EditedTake(path, result, save_subtitles(takes, result, path.stem))


def save_subtitles(takes: TakeStore, result: SynthesisResult, stem: str) -> list[str]:
    """The take's subtitles (.vtt, .srt) beside its WAV (`stem`: the WAV's name without .wav)."""
    return [str(takes.save_text(subtitles.render(result.segments, fmt), fmt, stem=stem)) for fmt in subtitles.FORMATS]


def _generate(engine, library: VoiceLibrary, recipe: Recipe, index: int, edit: Edit, clips: list[Clip],
              cancel: threading.Event | None) -> Recipe:
    """A part made anew (regenerate), or a new part after `index` (add), with the take's voices."""
    if edit.text is not None:
        SynthesisRequest.parse(text=edit.text)  # the request's sentences for empty, long or odd text
    if edit.action == "add":
        if edit.text is None:
            raise InvalidRequest("A new part needs its text: type what it should say.")
        recipe, index = new_part(recipe, index, edit.speaker)
    seed = _seed(edit.seed)
    request = recipe_request(recipe, match_clips(recipe, clips, library))
    variant = _able(engine, "revise_part").revise_part(request, recipe, index, edit.text, seed, cancel)
    return fill_new_part(recipe, index, variant) if edit.action == "add" else keep_variant(recipe, index, variant)


def _seed(seed: Any) -> int:
    if seed is None or seed == "":
        return secrets.randbelow(MAX_SEED + 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidRequest(f"A seed is a whole number from 0 to {MAX_SEED} (got {str(seed)[:40]!r}).")
    return seed


def _able(engine, verb: str):
    if not callable(getattr(engine, verb, None)):
        raise StudioError("This studio's backend (a remote server) cannot render or edit takes from a recipe; "
                          "use a studio that runs the model itself.")
    return engine


def recipe_request(recipe: Recipe, clips: dict[str | None, Clip]) -> SynthesisRequest:
    """The take's request again: its text, scene, sampling and voices (`clips`: each voice's clip by speaker
    name, None for a single voice)."""
    common = dict(text=recipe.text, scene=recipe.scene, seed=recipe.seed, sampling=recipe.sampling.model_dump())
    if recipe.dialogue:
        speakers = {name: {k: v for k, v in (("reference_audio", clips.get(name)), ("reference_text", ref.transcript),
                                              ("description", ref.description), ("adapter", ref.adapter))
                           if v is not None}
                    for name, ref in (recipe.speakers or {}).items()}
        return SynthesisRequest.parse(**common, speakers=speakers, pause_s=recipe.pause_s,
                                      voice_layout=recipe.voice_layout)
    voice = recipe.voice
    return SynthesisRequest.parse(**common, reference_audio=clips.get(None),
                                  reference_text=voice.transcript if voice and clips.get(None) is not None else None,
                                  adapter=voice.adapter if voice else None)


def match_clips(recipe: Recipe, clips: list[Clip], library: VoiceLibrary) -> dict[str | None, Clip]:
    """Each voice of the take that is a clip -> the clip sent (or the preset) with its very hash."""
    needed = {key: ref for key, ref in recipe.voice_refs().items() if ref is not None and ref.clip_sha256}
    given = {}
    for clip in clips or ():
        audio = Path(clip) if isinstance(clip, str) else clip
        if isinstance(audio, Path) and not audio.is_file():
            raise InvalidRequest(f"There is no clip file named {audio.name!r}.")
        given[clip_sha256(audio)] = audio
    wanted = {ref.clip_sha256 for ref in needed.values()}
    if any(sha not in wanted for sha in given):
        raise InvalidRequest("A clip you sent is not one of this take's voices: its sha256 differs from the recipe's. "
                             "Send the very clip (the same file) the take was made with.")
    found, presets = {}, _presets_by_hash(library) if needed else {}
    for key, ref in needed.items():
        clip = given.get(ref.clip_sha256) or presets.get(ref.clip_sha256)
        if clip is None:
            whose = f"{key}'s voice" if key else "This take's voice"
            raise InvalidRequest(f"{whose} is a clip ({ref.clip_s or 0:.1f} s, sha256 {ref.clip_sha256[:12]}…) that "
                                 "the recipe names but does not hold: send the same clip again to make a part anew.")
        found[key] = clip
    return found


def preset_names(recipe: Recipe, library: VoiceLibrary) -> dict[str | None, str]:
    """Which of the take's voices are preset voices, by their clip's hash: voice key (None for a single voice, a
    dialogue's speaker name) -> the preset's name. For a page that loads a recipe and picks the same voice."""
    presets = _presets_by_hash(library)
    return {key: presets[ref.clip_sha256].stem for key, ref in recipe.voice_refs().items()
            if ref is not None and ref.clip_sha256 in presets}


def _presets_by_hash(library: VoiceLibrary) -> dict[str, Path]:
    return _hashes(tuple((p.audio_path, p.audio_path.stat().st_mtime_ns) for p in library.all()))


@functools.lru_cache(maxsize=8)
def _hashes(files: tuple[tuple[Path, int], ...]) -> dict[str, Path]:
    return {clip_sha256(path): path for path, _ in files}
