"""Many visitors at once: takes generated together in the engine's batcher equal their solo takes.

Every test compares against the same request run alone on the same engine: same seed + same input =
same take, whichever takes it shared its decode steps with.
"""

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from inference import Cancelled, SynthesisRequest
from inference.generation.decoding import Job


def request(**fields):
    fields.setdefault("text", "Hello there, this is a test.")
    fields.setdefault("max_new_tokens", 40)
    return SynthesisRequest.parse(**fields)


def run_together(engine, requests, call=None):
    """Start every request at the same moment on its own thread; returns results (or errors) in order."""
    call = call or engine.synthesize
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def work(index):
        barrier.wait(timeout=30)
        try:
            results[index] = call(requests[index])
        except Exception as err:  # compared by the caller
            results[index] = err

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_concurrent_takes_with_different_voices_and_options_equal_their_solo_takes(engine, speech_wav):
    requests = [
        request(seed=1, reference_audio=speech_wav, reference_text="Hello, this is my voice."),  # clone
        request(seed=2, text="A preset voice reads this.", reference_audio="assets/voices/robot_en.wav",
                reference_text=Path("assets/voices/robot_en.txt").read_text()),  # preset
        request(seed=3, text="A smart voice, chosen by the model.", temperature=1.2, top_k=5),
        request(seed=4, text="Greedy and short.", temperature=0, max_new_tokens=25),
        request(seed=5, text="Narrow nucleus, strict repetition rule.", top_p=0.3, ras_win_len=3,
                ras_max_repeats=1, scene="Audio is recorded in a large hall."),
    ]
    solo = [engine.synthesize(r).waveform for r in requests]
    engine.batcher.peak = 0
    together = run_together(engine, requests)
    assert engine.batcher.peak >= 2, "the takes never generated together"
    for alone, batched in zip(solo, together, strict=True):
        assert not isinstance(batched, Exception), batched
        assert np.array_equal(alone, batched.waveform)
    assert len(together[3].waveform) == 17 * 960  # its own max length, not the others'


def test_a_bad_reference_fails_only_its_own_request(engine, speech_wav, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really audio")
    good = request(seed=6, reference_audio=speech_wav, reference_text="Hello, this is my voice.")
    alone = engine.synthesize(good).waveform
    results = run_together(engine, [good, request(seed=7, reference_audio=broken), good])
    assert "not a supported audio format" in str(results[1])
    assert np.array_equal(results[0].waveform, alone) and np.array_equal(results[2].waveform, alone)


def test_a_job_that_fails_in_the_model_fails_alone(engine):
    """A prompt the model itself rejects (placeholder count and audio frames disagree) fails in its
    prefill; the rows generating beside it finish untouched."""
    good = request(seed=8, max_new_tokens=60)
    alone = engine.synthesize(good).waveform
    prompt = engine.render_prompt(request(reference_audio="assets/voices/robot_en.wav", reference_text="hi"))
    broken = dict(prompt.inputs, audio_input_ids=prompt.inputs["audio_input_ids"][:, :3],
                  audio_input_ids_mask=prompt.inputs["audio_input_ids_mask"][:, :3])
    results = run_together(engine, [good, None], call=lambda r: engine.synthesize(r) if r else
                           engine.batcher.submit(Job(broken, good.sampling, 1)).result(timeout=120))
    assert isinstance(results[1], Exception)
    assert np.array_equal(results[0].waveform, alone)
    assert engine.synthesize(request(seed=9, max_new_tokens=20)).duration_s > 0  # still serving


def test_streams_in_one_batch_each_receive_only_their_own_audio(engine):
    requests = [request(seed=s, text=f"Stream number {s} speaks.", max_new_tokens=90) for s in (11, 12, 13)]
    solo = [engine.synthesize(r).waveform for r in requests]
    engine.batcher.peak = 0
    streamed = run_together(engine, requests, call=lambda r: list(engine.stream(r)))
    assert engine.batcher.peak >= 2
    for alone, chunks in zip(solo, streamed, strict=True):
        assert not isinstance(chunks, Exception), chunks
        joined = np.concatenate([c.waveform for c in chunks])
        assert np.array_equal(chunks[-1].result.waveform, alone)
        assert len(joined) == len(alone)
        assert np.abs(joined - alone).max() < 1e-3 * np.abs(alone).max()


def test_a_cancelled_stream_frees_its_row_and_the_others_finish(engine):
    others = [request(seed=s, text=f"Visitor {s} stays.", max_new_tokens=80) for s in (21, 22)]
    solo = [engine.synthesize(r).waveform for r in others]
    leaving = request(seed=23, max_new_tokens=2000)
    left = threading.Event()

    def leave(r):
        if r is not leaving:
            return engine.synthesize(r)
        stream = engine.stream(r)
        next(stream)
        stream.close()  # the visitor closed the tab
        left.set()
        return engine.status()["generating"]

    results = run_together(engine, [others[0], leaving, others[1]], call=leave)
    assert left.is_set() and results[1] <= 2  # its row is gone once close() returns
    assert np.array_equal(results[0].waveform, solo[0]) and np.array_equal(results[2].waveform, solo[1])
    assert not engine.status()["busy"]


@pytest.mark.parametrize("streamed", [True, False])
def test_a_take_stopped_while_waiting_for_a_place_ends_at_once(streamed):
    """A full batch (one place, a long take in it): a take waiting for the place is stopped by its caller.
    Its call ends while the long take still generates, instead of when the place frees."""
    from inference import Engine

    small = Engine("tiny-random", max_batch=1).load()
    stop_holder, stop_waiter, ended = threading.Event(), threading.Event(), threading.Event()
    held: list = []

    def hold_the_place():
        try:
            small.synthesize(request(seed=41, max_new_tokens=3000), cancel=stop_holder)
        except Cancelled as err:  # stopped at the end of the test
            held.append(err)

    holder = threading.Thread(target=hold_the_place)
    holder.start()

    def wait_in_line():
        with pytest.raises(Cancelled):
            if streamed:
                list(small.stream(request(seed=42), cancel=stop_waiter))
            else:
                small.synthesize(request(seed=42), cancel=stop_waiter)
        ended.set()

    waiter = threading.Thread(target=wait_in_line)
    try:
        assert wait_for(lambda: small.status()["generating"] == 1)
        waiter.start()
        assert wait_for(lambda: small.batcher.waiting == 1)
        stop_waiter.set()
        assert ended.wait(timeout=5), "the stopped take waited for the place"
        assert small.status()["generating"] == 1 and small.status()["pending"] == 1  # the long take runs on
    finally:
        stop_holder.set()
        stop_waiter.set()
        holder.join(timeout=60)
        waiter.join(timeout=60)
    assert held, "the long take ended before the test stopped it"
    assert wait_for(lambda: not small.status()["busy"])  # the batcher drops the stopped job when it looks next


def wait_for(condition, seconds: float = 30) -> bool:
    for _ in range(int(seconds / 0.01)):  # bounded
        if condition():
            return True
        threading.Event().wait(0.01)
    return False


def test_a_cancel_event_stops_a_whole_take(engine):
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    with pytest.raises(Cancelled, match="stopped"):
        engine.synthesize(request(seed=24, max_new_tokens=3000), cancel=cancel)
    timer.join()
    assert not engine.status()["busy"]


def test_a_take_arriving_mid_batch_joins_at_the_next_step(engine):
    """Continuous batching: a short take that arrives while a long one runs ends long before it."""
    long = request(seed=31, max_new_tokens=600)
    short = request(seed=32, text="A late visitor.", max_new_tokens=30)
    alone = engine.synthesize(short).waveform
    order = []

    def run(r, name):
        result = engine.synthesize(r)
        order.append(name)
        return result

    first = threading.Thread(target=run, args=(long, "long"))
    first.start()
    for _ in range(1000):  # bounded: until the long take is generating
        if engine.status()["generating"]:
            break
        threading.Event().wait(0.01)
    late = run(short, "short")
    first.join(timeout=300)
    assert order == ["short", "long"]
    assert np.array_equal(late.waveform, alone)


def test_the_decode_loop_matches_stock_generate(engine):
    """Greedy (no random draws) through the engine's own loop gives exactly stock `generate`'s codes."""
    r = request(temperature=0, ras_win_len=0, max_new_tokens=50, reference_audio="assets/voices/robot_en.wav",
                reference_text="hi")
    prompt = engine.render_prompt(r)
    config = engine.model.generation_config
    with torch.inference_mode():
        stock = engine.model.generate(**prompt.inputs, max_new_tokens=50, do_sample=False, top_k=None,
                                      top_p=None, temperature=None, eos_token_id=config.eos_token_id)[0]
    mine = engine.batcher.submit(Job(prompt.inputs, r.sampling, 0)).result(timeout=120)
    assert mine.shape == (50, 8)
    assert torch.equal(stock[-50:].cpu(), mine)


def test_status_reports_the_batch(engine):
    status = engine.status()
    assert status["max_batch"] == engine.max_batch == 4  # CPU default
    assert status["generating"] == 0


def test_a_tiny_temperature_samples_near_greedy_and_spoils_no_neighbour(engine):
    """A temperature just above 0 (1e-50 rounds to 0 in float32) divided the logits into inf and NaN: the
    draw raised, and every take sharing that step failed with it."""
    good = request(seed=41, max_new_tokens=30)
    alone = engine.synthesize(good).waveform
    results = run_together(engine, [good, request(seed=42, temperature=1e-50, max_new_tokens=30)])
    assert not isinstance(results[1], Exception), results[1]
    assert not isinstance(results[0], Exception), results[0]
    assert np.array_equal(results[0].waveform, alone)


def staggered_logits(engine, jobs, indices, stagger: int) -> dict[int, list[torch.Tensor]]:
    """Every step's logits of each row `indices` names, the rows joining one decoder one every `stagger` steps
    (`jobs[i]()` makes row i's Job): a row decoded alone is `staggered_logits(engine, jobs, [i], 1)`."""
    from inference.generation.decoding import Decoder

    decoder, logits, rows = Decoder(engine.model, max_batch=8), {}, {}
    pending, step = list(indices), 0
    with engine.batcher.device_lock, torch.inference_mode():
        while (pending or decoder.rows) and step < 500:  # bounded
            if pending and step % stagger == 0:
                i = pending.pop(0)
                rows[i] = decoder.admit(jobs[i]())
            for i, row in rows.items():
                if row in decoder.rows:
                    logits.setdefault(i, []).append(row.logits.clone())
            decoder.sample()
            decoder.forward()
            step += 1
    return logits


def test_a_row_gets_bit_identical_logits_whatever_shares_its_steps(engine):
    """The root of "same seed, same take": at every step a batched row's logits are bit for bit its solo
    logits. Eight rows with different prompt lengths and options join one every five steps (so their
    caches are padded differently), and each is compared with the same job decoded alone."""
    options = [dict(temperature=1.0), dict(temperature=0.7, top_k=5), dict(temperature=0),
               dict(top_p=0.5, ras_win_len=3, ras_max_repeats=1), dict(temperature=1.3, top_k=200)]
    requests = [request(seed=i, text=f"Row {i}, {'and more words ' * i}.", max_new_tokens=60,
                        **options[i % len(options)]) for i in range(8)]
    prompts = [engine.render_prompt(r).inputs for r in requests]

    jobs = [lambda i=i: Job(prompts[i], requests[i].sampling, seed=100 + i) for i in range(8)]

    def decode(indices, stagger):
        return staggered_logits(engine, jobs, indices, stagger)

    batched = decode(range(8), stagger=5)
    assert max(len(v) for v in batched.values()) == 60
    for i in range(8):
        alone = decode([i], stagger=1)[i]
        assert len(alone) == len(batched[i])
        differing = sum(not torch.equal(a, b) for a, b in zip(alone, batched[i], strict=True))
        assert differing == 0, f"row {i}: {differing} of {len(alone)} steps had other logits in the batch"
