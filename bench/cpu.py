"""Serving many visitors on one model: ratios measured in one run, on any machine (tiny-random on CPU).

    python bench/cpu.py                  # prints one line per figure, then a JSON line
    python bench/cpu.py --tokens 500     # length of the long takes (500 tokens = 20 s of audio)

Every figure is a ratio of two timings taken in the same run, so the machine's speed cancels out:
  overhead        engine take / bare transformers `generate` + decode of the same request   (target <= 1.05)
  throughput      8 concurrent takes through the engine: sequential time / concurrent time  (target >= 3.0)
                  (medians of --repeats interleaved runs of each)
  first audio     time to the first streamed chunk / the whole streamed take (~20 s audio) (target <= 0.15)
  seeded batch    share of seeded takes whose batched waveform equals their solo waveform  (target 1.00)
  late arrival    first audio of a take arriving while 4 long takes run / on an idle engine (target <= 2)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from inference import Engine, SynthesisRequest  # noqa: E402

TEXTS = [f"Visitor number {i} asks the studio for a short sentence of their own." for i in range(8)]


def timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def concurrently(fn, items):
    """Run fn(item) for every item at the same moment; returns (wall seconds, results in order)."""
    barrier = threading.Barrier(len(items) + 1)
    results = [None] * len(items)

    def work(i):
        barrier.wait()
        results[i] = fn(items[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def overhead(engine: Engine, tokens: int, repeats: int) -> float:
    """The engine's whole take against the bare model: prompt tensors, stock generate, audio decode."""
    request = SynthesisRequest.parse(text=TEXTS[0], seed=1, max_new_tokens=tokens)
    prompt = engine.render_prompt(request)
    config = engine.model.generation_config
    config.ras_win_len, config.ras_win_max_num_repeat = 7, 2

    def bare():
        with torch.inference_mode():
            torch.manual_seed(1)
            codes = engine.model.generate(**prompt.inputs, max_new_tokens=tokens, generation_config=config)[0]
            frames = engine.tokens.codes_to_frames(codes)
            return engine.processor.audio_tokenizer.decode(frames.T.unsqueeze(0)).audio_values

    ours, theirs = [], []
    for _ in range(repeats):  # interleaved, so drifts in the machine's speed hit both alike
        theirs.append(timed(bare)[0])
        ours.append(timed(engine.synthesize, request)[0])
    return statistics.median(ours) / statistics.median(theirs)


def throughput(engine: Engine, tokens: int, repeats: int) -> tuple[float, float]:
    """8 takes one after the other, then the same 8 at once; repeated, interleaved, medians compared.
    Also the share of batched takes (all repeats) whose waveform equals the same take generated alone."""
    requests = [SynthesisRequest.parse(text=t, seed=i, max_new_tokens=tokens) for i, t in enumerate(TEXTS)]
    sequential, together, same, compared = [], [], 0, 0
    for _ in range(repeats):
        seconds, solo = timed(lambda: [engine.synthesize(r).waveform for r in requests])
        sequential.append(seconds)
        seconds, results = concurrently(engine.synthesize, requests)
        together.append(seconds)
        same += sum(np.array_equal(a, b.waveform) for a, b in zip(solo, results, strict=True))
        compared += len(requests)
    return statistics.median(sequential) / statistics.median(together), same / compared


def first_audio(engine: Engine, tokens: int) -> float:
    request = SynthesisRequest.parse(text=TEXTS[1], seed=2, max_new_tokens=tokens)
    started = time.perf_counter()
    stream = engine.stream(request)
    next(stream)
    first = time.perf_counter() - started
    for _ in stream:
        pass
    return first / (time.perf_counter() - started)


def late_arrival(engine: Engine, tokens: int, repeats: int) -> float:
    """First audio of a visitor who arrives while a batch of long takes runs, against an idle engine."""
    late = SynthesisRequest.parse(text=TEXTS[2], seed=3, max_new_tokens=60)

    def first_chunk_s():
        started = time.perf_counter()
        stream = engine.stream(late)
        next(stream)
        elapsed = time.perf_counter() - started
        stream.close()
        return elapsed

    idle = statistics.median(first_chunk_s() for _ in range(repeats))
    busy = []
    for _ in range(repeats):
        long = [SynthesisRequest.parse(text=t, seed=9, max_new_tokens=tokens) for t in TEXTS[:4]]
        runners = [threading.Thread(target=engine.synthesize, args=(r,)) for r in long]
        for runner in runners:
            runner.start()
        for _ in range(2000):  # bounded: until the long takes are generating
            if engine.status()["generating"] >= len(long) - 1:
                break
            time.sleep(0.005)
        time.sleep(0.2)
        busy.append(first_chunk_s())
        for runner in runners:
            runner.join()
    return statistics.median(busy) / idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500, help="length of a long take (500 tokens = 20 s)")
    parser.add_argument("--short", type=int, default=300, help="length of each of the 8 concurrent takes (12 s)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="tiny-random")
    args = parser.parse_args()

    # The watermark (on by default) adds a fixed cost per second of audio, measured in bench/watermark.py;
    # it is left out here so these ratios measure the generation engine itself.
    engine = Engine(args.model, max_batch=8, watermark=False).load()
    engine.warm_up()
    print(f"model {args.model} on {engine.device} ({engine.dtype}), torch threads {torch.get_num_threads()}, "
          f"max batch {engine.max_batch}, watermark off (see bench/watermark.py)", flush=True)
    figures = {"overhead": overhead(engine, args.tokens, args.repeats)}
    print(f"overhead      {figures['overhead']:.3f}  (engine take / bare generate + decode; target <= 1.05)", flush=True)
    figures["throughput"], figures["seeded_batch"] = throughput(engine, args.short, args.repeats)
    print(f"throughput    {figures['throughput']:.2f}x (8 concurrent / sequential; target >= 3.0)", flush=True)
    figures["first_audio"] = first_audio(engine, args.tokens)
    print(f"first audio   {figures['first_audio']:.3f}  (first chunk / whole streamed take; target <= 0.15)",
          flush=True)
    print(f"seeded batch  {figures['seeded_batch']:.2f}  (batched take == solo take; target 1.00)", flush=True)
    figures["late_arrival"] = late_arrival(engine, args.tokens, args.repeats)
    print(f"late arrival  {figures['late_arrival']:.2f}  (first audio beside 4 long takes / idle; target <= 2)",
          flush=True)
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
