"""The worker refuses what RunPod could not return before generating it, and caps a streamed answer (issue 19,
hole 2): serverless/output_budget.py through the real Worker and engine."""

from __future__ import annotations

import time

from serverless import output_budget
from serverless.handler import Worker
from serverless.job import parse_job
from serverless.output_budget import check_returnable
from serverless.storage import S3Config, Storage

SENTENCE = "The river runs past the old mill and into the quiet valley below. "  # 13 words


def test_a_take_too_long_to_return_is_refused_before_any_generation(engine):
    # 2000 characters are 5 parts; at 4096 tokens each that is up to 819 s: over the ~750 s an MP3 may hold
    # under RunPod's 20 MB cap. The old worker generated it all (a 1145 s take: 225 s of work) to refuse it.
    job = {"text": (SENTENCE * 31)[:2000], "max_new_tokens": 4096}
    steps = engine.batcher.steps if engine.batcher else 0
    started = time.perf_counter()
    (item,) = Worker(engine).run({"id": "long", "input": job})
    assert time.perf_counter() - started < 5
    assert item["error_type"] == "invalid_request"
    assert item["error"].startswith("This job can make up to 819 s of audio (every part up to max_new_tokens=4096)")
    assert "capped at 20 MB (about 750 s as MP3): lower max_new_tokens, shorten the text, or configure S3" in item["error"]
    assert (engine.batcher.steps if engine.batcher else 0) == steps  # nothing was generated


def test_what_can_come_back_is_not_refused():
    fits = parse_job({"text": (SENTENCE * 31)[:1500], "max_new_tokens": 4096})  # 4 parts: up to 655 s
    check_returnable(fits, Storage(None))
    too_long = {"text": (SENTENCE * 31)[:2000], "max_new_tokens": 4096}
    check_returnable(parse_job(too_long), Storage(S3Config(bucket="takes")))  # S3: any length can come back
    check_returnable(parse_job({**too_long, "stream": True}), Storage(None))  # streams are capped as they go
    check_returnable(parse_job({**too_long, "prompt_only": True}), Storage(None))


def test_a_dialogue_counts_every_turn_and_pause():
    from inference.prompting.plan import longest_take_s

    job = parse_job({"script": "Alice: Hi there.\nBob: Hello.\nAlice: Bye.", "max_new_tokens": 100, "pause_s": 1})
    assert longest_take_s(job.request) == 3 * 4.0 + 2 * 1.0


def test_a_streamed_answer_stops_at_the_cap(engine, monkeypatch):
    # Scaled down: room for about 2 s of WAV chunks; the take asks for 8 s. Before, a streamed job's chunks
    # had no cap (one /runsync answer was 74.5 MB).
    monkeypatch.setattr(output_budget, "STREAM_LIMIT", 2 * 64_000 + 4 * 1024)
    items = list(Worker(engine).run({"id": "s", "input": {"text": "Hi there.", "max_new_tokens": 200, "seed": 1,
                                                          "stream": True}}))
    chunks, last = items[:-1], items[-1]
    assert chunks and all(c["type"] == "chunk" for c in chunks)
    assert 1.0 < sum(c["duration_s"] for c in chunks) <= 2.1
    assert last["error_type"] == "studio_error"
    assert last["error"].startswith("The streamed take reached RunPod's 20 MB output cap after ")
    assert not engine.status()["busy"]  # the take was stopped, its row freed
