"""Engine benchmark: ratios measured in one run (no test asserts a timing).

    python bench/engine_bench.py                 # tiny-random on this machine (CPU)
    python bench/engine_bench.py --full-size     # full-size random weights (~5.8B, bf16): run via bench/gpu.sh

--full-size builds a Higgs Audio V2 with the released model's dimensions and random weights: step
time, memory and real-time factor are the real model's, with no 12 GB download. The tiny model's LM
is far cheaper than the real one, so its decode and overhead shares are upper bounds. Prints:
  RTF                     compute seconds per second of audio for a whole take (below 1 = faster than real time)
  first audio / whole     time to the first streamed chunk relative to the whole take
  stream / whole          total cost of streaming vs one whole take
  decode / total          share of the audio decoder
  2 threads / sequential  two concurrent visitors vs one after the other (below 1: their takes are batched)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from inference import Engine, SynthesisRequest  # noqa: E402
from inference.model.tiny_model import build_random_checkpoint  # noqa: E402


def load_engine(full_size: bool) -> Engine:
    """tiny-random, or a full-size random checkpoint built here; loaded and warmed up."""
    model_id = "tiny-random"
    if full_size:
        folder = Path(tempfile.mkdtemp(prefix="hvs-full-"))
        started = time.perf_counter()
        build_random_checkpoint(folder, final_dir=folder, full_size=True)
        print(f"built the full-size random checkpoint in {time.perf_counter() - started:.0f} s")
        model_id = str(folder)
    engine = Engine(model_id, device="auto", dtype="auto").load()
    params = sum(p.numel() for p in engine.model.parameters()) / 1e9
    print(f"model: {params:.2f}B parameters on {engine.device} ({engine.dtype}), loaded in {engine.load_s:.1f} s")
    engine.warm_up()
    return engine


def solo_takes(engine: Engine, request: SynthesisRequest, repeats: int) -> tuple:
    """One visitor: per repeat, a whole take (its seconds, RTF, decode share) and the same take streamed
    (seconds to its first chunk and in all). Also returns the last whole take's result."""
    whole, rtf, decode, first, stream_total = [], [], [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = engine.synthesize(request)
        whole.append(time.perf_counter() - t0)
        rtf.append(result.timings.real_time_factor)
        decode.append(result.timings.decode_s / result.timings.total_s)
        t0 = time.perf_counter()
        first_at = None
        for _chunk in engine.stream(request):
            first_at = first_at or time.perf_counter() - t0
        stream_total.append(time.perf_counter() - t0)
        first.append(first_at)
    return result, whole, rtf, decode, first, stream_total


def two_visitors(engine: Engine, request: SynthesisRequest, together: bool) -> float:
    """Seconds for two takes, each on its own thread like server requests, at once or one after the other."""
    threads = [threading.Thread(target=engine.synthesize, args=(request,)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
        if not together:
            t.join()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=500, help="500 tokens = 20 s of audio")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-size", action="store_true", help="the released model's dimensions (needs a GPU)")
    args = parser.parse_args()

    engine = load_engine(args.full_size)
    cuda = engine.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()

    request = SynthesisRequest.parse(text="A benchmark sentence, read at an even pace, again and again.",
                                     seed=1, max_new_tokens=args.tokens)
    result, whole, rtf, decode, first, stream_total = solo_takes(engine, request, args.repeats)
    together = []  # two visitors at once vs one after the other, one ratio per repeat
    for _ in range(args.repeats):
        sequential = two_visitors(engine, request, together=False)
        together.append(two_visitors(engine, request, together=True) / sequential)

    med = statistics.median
    steps_per_s = args.tokens / med([w * (1 - d) for w, d in zip(whole, decode, strict=True)])
    print(f"{args.tokens} tokens -> {result.duration_s:.1f} s audio; median of {args.repeats}")
    print(f"RTF                     {med(rtf):.3f}   ({steps_per_s:.0f} generation steps/s, 25 steps = 1 s audio)")
    print(f"first audio             {med(first):.2f} s")
    print(f"first audio / whole     {med(first) / med(whole):.3f}")
    print(f"stream / whole          {med(stream_total) / med(whole):.2f}")
    print(f"decode / total          {med(decode):.3f}")
    print(f"2 threads / sequential  {med(together):.2f}")
    if cuda:
        print(f"peak GPU memory         {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")


if __name__ == "__main__":
    main()
