"""A take's recipe as untrusted input: its schema, its caps and its sentences (no model needed)."""

import json

import numpy as np
import pytest

from inference.contract.errors import InvalidRequest
from inference.contract.recipe import (
    MAX_PARTS,
    MAX_RECIPE_BYTES,
    MAX_TAKE_FRAMES,
    RECIPE_VERSION,
    Recipe,
    load_recipe,
    pack_codes,
    unpack_codes,
)


def _recipe(frames: int = 30, parts: int = 2) -> dict:
    codes = pack_codes(np.arange(frames * 8).reshape(frames, 8) % 1024)
    part = {"variants": [{"text": "Hello there.", "caption": "Hello there.", "seed": 1, "codes": codes}]}
    return {"format": "higgs-voice-studio/recipe", "version": RECIPE_VERSION, "model": "tiny-random",
            "text": "Hello there.", "parts": [part] * parts}


def test_codes_pack_to_int16_rows_and_back():
    frames = np.random.default_rng(0).integers(0, 1024, size=(50, 8))
    packed = pack_codes(frames)
    assert np.array_equal(unpack_codes(packed), frames)
    assert len(packed) == 1068  # base64 of 800 bytes (50 frames x 8 codes x 2 bytes)
    # a minute of audio is 1500 frames: 24 000 bytes of int16, 32 000 in base64
    assert len(pack_codes(np.zeros((1500, 8), int))) == 32_000


def test_a_recipe_loads_from_text_bytes_or_object_and_round_trips():
    data = _recipe()
    recipe = load_recipe(json.dumps(data))
    assert load_recipe(json.dumps(data).encode()) == recipe == load_recipe(data)
    assert load_recipe(recipe.to_json()) == recipe
    timed = recipe.timed()
    assert timed.parts[1].start_s == pytest.approx(30 * 960 / 24000) and timed.parts[1].end_s == pytest.approx(2.4)


@pytest.mark.parametrize("change, words", [
    (lambda d: "{not json", "not valid JSON"),
    (lambda d: [1, 2], "not a take recipe"),
    (lambda d: {**d, "format": "other"}, "not a take recipe"),
    (lambda d: {**d, "version": RECIPE_VERSION + 1}, "made by a newer studio"),
    (lambda d: {**d, "version": str(RECIPE_VERSION + 1)}, "version"),  # a newer version as text is no way in
    (lambda d: {**d, "version": 0}, "version"),
    (lambda d: {**d, "sample_rate": -1}, "sample_rate"),
    (lambda d: {**d, "voice": {"adapter": "../../etc"}}, "voice.adapter: adapter '../../etc' is not a trained voice"),
    (lambda d: {**d, "parts": d["parts"] * (MAX_PARTS // 2 + 1)}, f"at most {MAX_PARTS}"),
    (lambda d: "x" * (MAX_RECIPE_BYTES + 1), "may be at most"),
    (lambda d: {**d, "parts": []}, "parts"),
    (lambda d: {**d, "unknown": 1}, "unknown"),
    (lambda d: {**d, "parts": [{"variants": [{**d["parts"][0]["variants"][0], "text": "Hi <|AUDIO_OUT|>"}]}]},
     "control token"),
])
def test_bad_recipes_are_refused_in_words(change, words):
    data = change(_recipe())
    with pytest.raises(InvalidRequest, match=words):
        load_recipe(json.dumps(data) if not isinstance(data, str) else data)


def test_codes_out_of_range_or_torn_are_refused():
    data = _recipe()
    data["parts"][0] = json.loads(json.dumps(data["parts"][0]))
    data["parts"][0]["variants"][0]["codes"] = pack_codes(np.full((4, 8), 1025))
    with pytest.raises(InvalidRequest, match=r"0\.\.1023"):
        load_recipe(data)
    data["parts"][0]["variants"][0]["codes"] = "AAAA"  # 3 bytes: not whole frames
    with pytest.raises(InvalidRequest, match="whole frames"):
        load_recipe(data)
    data["parts"][0]["variants"][0]["codes"] = "%%%"
    with pytest.raises(InvalidRequest, match="base64"):
        load_recipe(data)
    data["parts"][0]["variants"][0]["codes"] = pack_codes(np.zeros((4, 8), int))
    data["parts"][0]["chosen"] = 3
    with pytest.raises(InvalidRequest, match="chosen is 3"):
        load_recipe(data)


def test_another_model_and_a_missing_part_are_refused_in_words():
    recipe = Recipe.model_validate(_recipe())
    with pytest.raises(InvalidRequest, match="made with the model 'tiny-random'"):
        recipe.check_model("bosonai/higgs-audio-v2-generation-3B-base")
    recipe.check_model("tiny-random")
    with pytest.raises(InvalidRequest, match="no part 2 in this take: its parts are numbered 0 to 1"):
        recipe.check_part(2)
    with pytest.raises(InvalidRequest, match="whole number"):
        recipe.check_part("1")
    assert recipe.check_part(-1, after=True) == -1


def test_a_recipe_longer_than_a_take_can_be_is_refused_before_rendering():
    # 64 parts of 4096 frames fit in 6 MB of recipe but are three hours of audio: rendering them took ~6 GB and
    # minutes of CPU (24 such parts: 98 s, +2.2 GB, a 186 MB WAV). Refused in words, as is a longer edited take.
    frames = MAX_TAKE_FRAMES // 8 + 1
    with pytest.raises(InvalidRequest, match="20.0 minutes of audio; a take holds at most 20 minutes"):
        load_recipe(json.dumps(_recipe(frames=frames, parts=8)))
    recipe = load_recipe(json.dumps(_recipe(frames=frames, parts=7)))
    longer = recipe.model_copy(update={"parts": [*recipe.parts, recipe.parts[0]]})  # as an edit builds one
    with pytest.raises(InvalidRequest, match="a take holds at most 20 minutes"):
        longer.check_length()
    Recipe.model_validate(json.loads(longer.to_json()))  # a take that ran that long still writes its recipe
    assert load_recipe(longer.to_json(), renderable=False) == longer  # and a remote worker's take passes it on
