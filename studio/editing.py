"""Edits of a take's recipe that need no model: keep a new variant of a part, choose among a part's variants,
set the pause before a part, delete a part, make room for a new part. Each returns a new recipe (a recipe is
the whole state of an edited take: the server keeps none). Studio.revise (studio/revise.py) runs them."""

from __future__ import annotations

from inference.contract.errors import InvalidRequest
from inference.contract.recipe import MAX_PARTS, MAX_VARIANTS, Recipe, RecipePart, Variant
from inference.contract.request import MAX_PAUSE_S


def _with_part(recipe: Recipe, index: int, part: RecipePart) -> Recipe:
    parts = list(recipe.parts)
    parts[index] = part
    return recipe.model_copy(update={"parts": parts})


def keep_variant(recipe: Recipe, index: int, variant: Variant) -> Recipe:
    """The part with `variant` added and chosen; past MAX_VARIANTS the oldest one not chosen goes."""
    part = recipe.parts[index]
    variants = [*part.variants, variant]
    if len(variants) > MAX_VARIANTS:
        drop = next(i for i in range(len(variants)) if i != part.chosen)
        variants.pop(drop)
    return _with_part(recipe, index, part.model_copy(update={"variants": variants, "chosen": len(variants) - 1}))


def fill_new_part(recipe: Recipe, index: int, variant: Variant) -> Recipe:
    """The part new_part made room for, holding its own `variant` in place of its neighbour's."""
    return _with_part(recipe, index, recipe.parts[index].model_copy(update={"variants": [variant], "chosen": 0}))


def choose_variant(recipe: Recipe, index: int, variant) -> Recipe:
    part = recipe.parts[index]
    if isinstance(variant, bool) or not isinstance(variant, int) or not 0 <= variant < len(part.variants):
        raise InvalidRequest(f"Part {index} has {len(part.variants)} variant{'s' if len(part.variants) > 1 else ''}, "
                             f"numbered 0 to {len(part.variants) - 1} (got {str(variant)[:40]!r}).")
    return _with_part(recipe, index, part.model_copy(update={"chosen": variant}))


def set_pause(recipe: Recipe, index: int, seconds) -> Recipe:
    """The silence before part `index` (0 removes it). The first part has none: a pause goes between parts."""
    if index == 0:
        raise InvalidRequest("A pause goes between parts: choose part 1 or later (the pause is before that part).")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_PAUSE_S:
        raise InvalidRequest(f"A pause is 0 to {MAX_PAUSE_S:g} seconds (got {str(seconds)[:40]!r}).")
    return _with_part(recipe, index, recipe.parts[index].model_copy(update={"pause_before_s": float(seconds)}))


def delete_part(recipe: Recipe, index: int) -> Recipe:
    if len(recipe.parts) == 1:
        raise InvalidRequest("This is the take's only part: a take keeps at least one.")
    parts = [p for i, p in enumerate(recipe.parts) if i != index]
    if index == 0:  # the new first part starts the take: no pause before it
        parts[0] = parts[0].model_copy(update={"pause_before_s": 0.0})
    return recipe.model_copy(update={"parts": parts})


def new_part(recipe: Recipe, after: int, speaker: str | None) -> tuple[Recipe, int]:
    """The recipe with a part added after part `after` (-1: first), to be generated: it holds its neighbour's
    variant until its own replaces it. A dialogue's new part is spoken by `speaker` (one of the take's;
    by default whoever speaks the part before it). Returns (recipe, the new part's index)."""
    if len(recipe.parts) >= MAX_PARTS:
        raise InvalidRequest(f"This take has {MAX_PARTS} parts already, the most a take holds.")
    index = after + 1
    neighbour = recipe.parts[max(after, 0)]
    voices = {p.speaker.casefold(): (p.speaker, p.voice) for p in recipe.parts if p.speaker}
    name, voice = neighbour.speaker, neighbour.voice
    if speaker and recipe.dialogue:
        if speaker.strip().casefold() not in voices:
            raise InvalidRequest(f"{speaker!r} does not speak in this take (its speakers: "
                                 f"{', '.join(repr(n) for n, _ in voices.values())}).")
        name, voice = voices[speaker.strip().casefold()]
    pause = recipe.pause_s if recipe.dialogue and index else 0.0
    part = RecipePart(speaker=name, voice=voice, pause_before_s=pause, variants=[neighbour.take])
    parts = [*recipe.parts[:index], part, *recipe.parts[index:]]
    if index == 0 and recipe.dialogue:  # the part that was first now follows one
        parts[1] = parts[1].model_copy(update={"pause_before_s": recipe.pause_s})
    return recipe.model_copy(update={"parts": parts}), index
