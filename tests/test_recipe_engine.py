"""A take's recipe at the engine: rendered back to the same samples from its codes alone, and one part made
again from the stored codes of the parts before it, equal to what the take gave for it."""

import numpy as np
import pytest

from inference import SynthesisRequest
from inference.contract.errors import InvalidRequest
from inference.contract.recipe import clip_sha256, load_recipe

SENTENCE = "The river runs past the old mill and into the quiet valley below."  # 13 words: 20 of them = 3 parts
SCRIPT = "Alice: Hello there, Bob.\nBob: Hello Alice, how are you?\nAlice: Very well, thank you."


@pytest.fixture(scope="module")
def long_take(engine, speech_wav):
    request = SynthesisRequest.parse(text=" ".join([SENTENCE] * 20), reference_audio=speech_wav,
                                     reference_text="Hello.", max_new_tokens=16, seed=5)
    return request, engine.synthesize(request)


@pytest.fixture(scope="module")
def dialogue_take(engine, speech_wav):
    request = SynthesisRequest.parse(text=SCRIPT, speakers={"alice": {"reference_audio": speech_wav},
                                                            "Bob": {"description": "a deep voice"}},
                                     max_new_tokens=14, seed=9, pause_s=0.2)
    return request, engine.synthesize(request)


def test_a_long_take_renders_from_its_recipe_bit_for_bit(engine, long_take, speech_wav):
    _, result = long_take
    recipe = load_recipe(result.recipe.to_json())  # through JSON, as a caller keeps it
    assert len(recipe.parts) == 3 and [p.take.seed for p in recipe.parts] == [5, 6, 7]
    assert recipe.voice.clip_sha256 == clip_sha256(speech_wav) and recipe.voice.transcript == "Hello."
    rendered = engine.render(recipe)
    assert np.array_equal(rendered.waveform, result.waveform)
    assert rendered.segments == result.segments
    spans = recipe.positions()
    assert [round(s.start_s * 24000) for s in result.segments] == [a for a, _ in spans]


def test_a_dialogue_renders_from_its_recipe_bit_for_bit(engine, dialogue_take, speech_wav):
    _, result = dialogue_take
    recipe = load_recipe(result.recipe.to_json())
    assert recipe.dialogue and [p.speaker for p in recipe.parts] == ["Alice", "Bob", "Alice"]
    assert recipe.speakers["alice"].clip_sha256 == clip_sha256(speech_wav)
    assert recipe.speakers["Bob"].description == "a deep voice" and recipe.speakers["Bob"].clip_sha256 is None
    assert [p.pause_before_s for p in recipe.parts] == [0.0, 0.2, 0.2]
    rendered = engine.render(recipe)
    assert np.array_equal(rendered.waveform, result.waveform)
    assert rendered.segments == result.segments


@pytest.mark.parametrize("take", ["long_take", "dialogue_take"])
def test_a_part_made_again_from_stored_context_equals_the_takes_part(engine, take, request):
    synthesis, result = request.getfixturevalue(take)
    recipe = result.recipe
    part = recipe.parts[2]
    again = engine.revise_part(synthesis, recipe, 2, None, part.take.seed)
    assert again.codes == part.take.codes and again.text == part.take.text
    other = engine.revise_part(synthesis, recipe, 2, None, part.take.seed + 100)
    assert other.codes != part.take.codes


def test_a_recipe_from_another_model_is_refused(engine, long_take):
    recipe = long_take[1].recipe.model_copy(update={"model": "bosonai/higgs-audio-v2-generation-3B-base"})
    with pytest.raises(InvalidRequest, match="made with the model"):
        engine.render(recipe)
