"""Editing a take through the service (Studio.render / Studio.revise) on tiny-random: one part made anew leaves
every other sample as it was, variants come and go exactly, subtitles follow the parts, clips are matched by
hash, and bad edits get sentences."""

import json
from pathlib import Path

import numpy as np
import pytest

from inference import Engine
from inference.audio.watermark import BLOCK, FIRST_BLOCK
from inference.contract.errors import InvalidRequest
from studio.revise import Edit
from studio.service import Studio
from studio.take_request import TakeRequest
from studio.takes import TakeStore

SENTENCE = "The river runs past the old mill and into the quiet valley below."
SCRIPT = "Alice: Hello there, Bob.\nBob: Hello Alice, how are you?\nAlice: Very well, thank you."


@pytest.fixture(scope="module")
def studio(engine, tmp_path_factory):
    return Studio(engine, takes=TakeStore(tmp_path_factory.mktemp("takes")))


@pytest.fixture(scope="module")
def take(studio, speech_wav):
    request = studio.prepare(TakeRequest(" ".join([SENTENCE] * 20), seed=4, options={"max_new_tokens": 16}))
    request = request.model_copy(update={"reference_audio": speech_wav, "reference_text": "Hello."})
    return request, studio.make_takes(request).result


def _cues(path: str) -> list[tuple[str, str]]:
    text = Path(path).read_text(encoding="utf-8")
    return [tuple(line.split(" --> ")) for line in text.splitlines() if " --> " in line]


def _clock(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _window(start: int, stop: int, length: int, marked: bool) -> tuple[int, int]:
    """A part's splice window: its own samples (fades included), widened to the watermark's blocks when the
    take is marked (the mark is applied block by block on one grid of the take: inference/audio/watermark.py)."""
    if not marked:
        return start, stop
    grid = [0, *range(FIRST_BLOCK, length, BLOCK), length]
    return max(x for x in grid if x <= start), min(x for x in grid if x >= stop)


@pytest.mark.parametrize("marked", [True, False])
def test_a_part_made_anew_changes_only_its_own_samples(studio, take, speech_wav, marked, tmp_path):
    request, first = take
    if not marked:  # the same take from an engine that does not mark: the window is the part itself
        studio = Studio(Engine("tiny-random", watermark=False), takes=TakeStore(tmp_path))
        first = studio.render(first.recipe).result
    edited = studio.revise(first.recipe.to_json(), Edit(part=1, seed=77), clips=[speech_wav])
    new = edited.result
    (a0, a1), (b0, b1) = first.recipe.positions()[1], new.recipe.positions()[1]
    assert (a0, a1) == (b0, b1) and len(new.waveform) == len(first.waveform)
    low, high = _window(a0, a1, len(first.waveform), marked)
    assert np.array_equal(new.waveform[:low], first.waveform[:low])  # before the part: the same
    assert np.array_equal(new.waveform[high:], first.waveform[high:])  # after it: kept
    assert not np.array_equal(new.waveform[a0:a1], first.waveform[a0:a1])
    # the new part is what the engine gives for part 1 with that seed and the stored part 0 as context
    assert new.recipe.parts[1].take.codes == studio.engine.revise_part(request, first.recipe, 1, None, 77).codes
    assert [len(p.variants) for p in new.recipe.parts] == [1, 2, 1] and new.recipe.parts[1].chosen == 1
    if not marked:  # a part deleted: the parts after it are the very same samples, earlier in the take
        shorter = studio.revise(new.recipe, Edit(part=0, action="delete")).result
        start = new.recipe.positions()[1][0]
        assert np.array_equal(shorter.waveform, new.waveform[start:])


def test_choosing_among_variants_gives_each_take_back_exactly(studio, take, speech_wav):
    _, first = take
    second = studio.revise(first.recipe, Edit(part=2, seed=11), clips=[speech_wav]).result
    back = studio.revise(second.recipe, Edit(part=2, action="choose", variant=0)).result
    assert np.array_equal(back.waveform, first.waveform)
    again = studio.revise(back.recipe, Edit(part=2, action="choose", variant=1)).result
    assert np.array_equal(again.waveform, second.waveform)
    assert np.array_equal(studio.render(json.loads(again.recipe.to_json())).result.waveform, second.waveform)


def test_at_most_four_variants_are_kept(studio, take, speech_wav):
    recipe = take[1].recipe
    for seed in range(4):
        recipe = studio.revise(recipe, Edit(part=0, seed=100 + seed), clips=[speech_wav]).result.recipe
    part = recipe.parts[0]
    assert len(part.variants) == 4 and part.chosen == 3 and [v.seed for v in part.variants] == [100, 101, 102, 103]


def test_pauses_deleted_and_added_parts_retime_the_subtitles(studio, take, speech_wav):
    recipe = take[1].recipe
    paused = studio.revise(recipe, Edit(part=1, action="pause", pause_s=0.5))
    assert len(paused.result.waveform) == len(take[1].waveform) + 12_000
    assert np.all(paused.result.waveform[recipe.positions()[0][1]:][:12_000] == 0)
    shorter = studio.revise(paused.result.recipe, Edit(part=0, action="delete"))
    assert len(shorter.result.recipe.parts) == 2 and shorter.result.recipe.parts[0].pause_before_s == 0
    added = studio.revise(shorter.result.recipe, Edit(part=0, action="add", text="A new sentence here.", seed=3),
                          clips=[speech_wav])
    parts = added.result.recipe.parts
    assert [p.take.caption for p in parts][1] == "A new sentence here."
    for edited in (paused, shorter, added):
        spans = edited.result.recipe.positions()
        vtt = [f for f in edited.subtitle_files if f.endswith(".vtt")][0]
        assert _cues(vtt) == [(_clock(a / 24000), _clock(b / 24000)) for a, b in spans]
        assert [p.start_s for p in edited.result.recipe.parts] == [a / 24000 for a, _ in spans]


def test_a_dialogue_part_needs_the_takes_own_clip_again(studio, speech_wav, tmp_path):
    voices = {"Alice": studio.voice(None)}
    request = studio.prepare(TakeRequest(SCRIPT, speakers=voices, seed=2, options={"max_new_tokens": 14}))
    request = request.model_copy(update={"speakers": {"Alice": request.speakers["Alice"].model_copy(
        update={"reference_audio": speech_wav})}})
    first = studio.make_takes(request).result
    with pytest.raises(InvalidRequest, match="Alice's voice is a clip .* send the same clip again"):
        studio.revise(first.recipe, Edit(part=0, seed=1))
    other = tmp_path / "other.wav"
    other.write_bytes(speech_wav.read_bytes() + b"\0\0")
    with pytest.raises(InvalidRequest, match="not one of this take's voices"):
        studio.revise(first.recipe, Edit(part=0, seed=1), clips=[other])
    same = studio.revise(first.recipe, Edit(part=2, seed=first.recipe.parts[2].take.seed), clips=[speech_wav])
    assert np.array_equal(same.result.waveform, first.waveform)  # the same seed and context: the same turn
    bob = studio.revise(first.recipe, Edit(part=2, action="add", text="Goodbye.", speaker="bob", seed=5),
                        clips=[speech_wav]).result.recipe
    assert [p.speaker for p in bob.parts] == ["Alice", "Bob", "Alice", "Bob"] and bob.parts[3].pause_before_s == 0.3


@pytest.mark.parametrize("edit, words", [
    (Edit(part=3), "no part 3 in this take"),
    (Edit(part=-1), "no part -1"),
    (Edit(part="x"), "whole number"),
    (Edit(part=0, action="explode"), "Unknown edit 'explode'"),
    (Edit(part=0, action="choose", variant=2), "numbered 0 to 0"),
    (Edit(part=0, action="pause", pause_s=1), "A pause goes between parts"),
    (Edit(part=1, action="pause", pause_s=60), "0 to 5 seconds"),
    (Edit(part=0, action="add"), "needs its text"),
    (Edit(part=0, seed=-4), "A seed is a whole number"),
    (Edit(part=0, text="   "), "no text to speak"),
    (Edit(part=0, action="add", text="Yes.", speaker=5), "speaker has the wrong type"),  # a worker job's JSON
    (Edit(part=0, action="add", text="Yes.", speaker=["Bob"]), "speaker has the wrong type"),
    (Edit(part=0, text=7), "text has the wrong type"),
])
def test_bad_edits_are_refused_in_words(studio, take, edit, words):
    with pytest.raises(InvalidRequest, match=words):
        studio.revise(take[1].recipe, edit)


def test_a_recipe_from_another_model_or_a_newer_studio_is_refused(studio, take):
    data = json.loads(take[1].recipe.to_json())
    with pytest.raises(InvalidRequest, match="made with the model 'other/model'"):
        studio.render({**data, "model": "other/model"})
    with pytest.raises(InvalidRequest, match="newer studio"):
        studio.revise({**data, "version": 99}, Edit(part=0))


def test_a_preset_voice_is_found_by_its_hash_without_a_clip(studio):
    preset = studio.voices.all()[0]
    voice = studio.voice(preset.name)
    request = studio.prepare(TakeRequest("A preset voice speaks.", voice, seed=1, options={"max_new_tokens": 14}))
    first = studio.make_takes(request).result
    assert studio.recipe_presets(first.recipe.to_json()) == {None: preset.name}
    again = studio.revise(first.recipe, Edit(part=0, seed=1))  # no clip sent: the preset is found by its hash
    assert np.array_equal(again.result.waveform, first.waveform)
