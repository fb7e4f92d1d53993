"""The worker's `revise` job (wire/runpod_job.py ReviseJob) in process on tiny-random: a take's output carries its
recipe, a part made anew comes back with the new recipe, and bad recipes and jobs are sentences, not crashes."""

import base64
import re

import numpy as np
import pytest

from inference.audio.codec import decode_audio
from inference.contract.recipe import pack_codes
from serverless.worker import Worker

SCRIPT = "Alice: Hello there, Bob.\nBob: Hello Alice, how are you?"


@pytest.fixture(scope="module")
def worker(engine):
    return Worker(engine)


@pytest.fixture(scope="module")
def take(worker, speech_wav):
    clip = base64.b64encode(speech_wav.read_bytes()).decode()
    job = {"script": SCRIPT, "speakers": {"Alice": {"reference_audio_base64": clip}}, "max_new_tokens": 14, "seed": 6}
    (item,) = worker.run({"id": "take", "input": job})
    assert item["type"] == "result", item
    return item, clip


def _audio(item: dict) -> np.ndarray:
    return decode_audio(base64.b64decode(item["audio_base64"]), 24_000)


def test_a_revise_job_makes_a_part_anew_and_choosing_the_first_variant_gives_the_take_back(worker, take):
    item, clip = take
    recipe = item["recipe"]
    assert [p["speaker"] for p in recipe["parts"]] == ["Alice", "Bob"]
    (revised,) = worker.run({"id": "r", "input": {"revise": {"recipe": recipe, "part": 1, "seed": 3, "clips": [clip]}}})
    assert revised["type"] == "result", revised
    assert revised["recipe"]["parts"][1]["chosen"] == 1 and revised["subtitles"]["vtt"].count(" --> ") == 2
    (back,) = worker.run({"id": "b", "input": {"revise": {"recipe": revised["recipe"], "part": 1, "action": "choose",
                                                          "variant": 0}}})
    assert np.array_equal(_audio(back), _audio(item))


@pytest.mark.parametrize("change, words", [
    (lambda r: {"recipe": r, "part": 9}, "no part 9"),
    (lambda r: {"recipe": {**r, "version": 5}, "part": 0}, "newer studio"),
    (lambda r: {"recipe": {**r, "model": "other/model"}, "part": 0}, "made with the model 'other/model'"),
    (lambda r: {"recipe": "{", "part": 0}, "not valid JSON"),
    (lambda r: {"recipe": r, "part": 0, "clips": ["bm90IGF1ZGlv"]}, "not one of this take's voices"),
    (lambda r: {"recipe": r, "part": 0, "clips": ["%%%"]}, "revise.clips\\[0\\]"),
    (lambda r: {"recipe": r, "part": 0, "colour": 1}, "Unknown field 'colour'"),
    (lambda r: {"recipe": {**r, "parts": [{**r["parts"][0], "variants": [{**r["parts"][0]["variants"][0], "codes":
                pack_codes(np.full((4, 8), 2000))}]}]}, "action": "delete", "part": 0}, "0\\.\\.1023"),
    (lambda r: {"recipe": {**r, "parts": r["parts"] * 33}, "part": 0}, "at most 64"),
    (lambda r: {"recipe": r, "part": 0}, "send the same clip again"),
    (lambda r: {"recipe": r, "part": 0, "output": "flac"}, "revise.output: Input should be 'wav' or 'mp3'"),
    (lambda r: {"part": 0}, "revise.recipe is required"),  # these two were internal errors (ValidationError)
])
def test_bad_revise_jobs_are_sentences(worker, take, change, words):
    (item,) = worker.run({"id": "x", "input": {"revise": change(take[0]["recipe"])}})
    assert item["error_type"] == "invalid_request" and re.search(words, item["error"]), item
