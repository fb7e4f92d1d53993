"""GPU benchmark of batched generation on the full-size model with random weights (no download).

    bash bench/gpu.sh                 # on a machine with an NVIDIA GPU: table + JSON (under 8 minutes)
    python bench/gpu.py --dry-run     # anywhere: the same run on a scaled-down model on CPU (tested)

For each batch size (1, 4, 8, 16) and each mode (eager; torch.compile of the decode step), N takes are
started together through the engine (the same path visitors take) and measured:
  steps/s per take   generation steps per second seen by one take (25 steps = 1 s of audio)
  steps/s aggregate  all takes together
  RTF                seconds of compute per second of audio for one take (below 1 = faster than real time)
  first audio        time to the first streamed chunk of a take started alone
  peak memory        the GPU memory high-water mark of that configuration
bf16, 8-bit and 4-bit (bitsandbytes, when installed) are loaded one after another. Targets on an
H100/H200: RTF <= 0.1 at batch 1, >= 100x real time in aggregate at batch 16, first audio <= 300 ms.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from bench.cpu import concurrently  # noqa: E402
from inference import Engine, SynthesisRequest  # noqa: E402
from inference.model.tiny_model import build_random_checkpoint  # noqa: E402

TEXT = "A benchmark sentence, read at an even pace by many visitors at once."


def takes_together(engine: Engine, batch: int, tokens: int) -> float:
    """Wall seconds for `batch` takes of `tokens` steps started at the same moment."""
    requests = [SynthesisRequest.parse(text=TEXT, seed=i, max_new_tokens=tokens) for i in range(batch)]
    return concurrently(engine.synthesize, requests)[0]


def first_audio_s(engine: Engine) -> float:
    started = time.perf_counter()
    stream = engine.stream(SynthesisRequest.parse(text=TEXT, seed=0, max_new_tokens=200))
    next(stream)
    elapsed = time.perf_counter() - started
    stream.close()
    return elapsed


def measure(model_path: str, args, compile: bool, quantize: str | None) -> list[dict]:
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    # watermark off: its fixed cost per second of audio (Perth, on CPU) is measured by bench/watermark.py
    engine = Engine(model_path, device=device, max_batch=max(args.batches), compile=compile,
                    quantize=quantize, watermark=False).load()
    started = time.perf_counter()
    engine.warm_up()
    warm_s = time.perf_counter() - started
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    first = first_audio_s(engine)
    rows = []
    for batch in args.batches:
        wall = takes_together(engine, batch, args.tokens)
        per_take = args.tokens / wall
        rows.append({
            "precision": quantize or str(engine.dtype).removeprefix("torch."), "mode": "compile" if compile else "eager",
            "batch": batch, "steps_per_s_per_take": round(per_take, 1),
            "steps_per_s_aggregate": round(per_take * batch, 1), "rtf": round(wall / (args.tokens / 25), 4),
            "x_realtime_aggregate": round(batch * args.tokens / 25 / wall, 1), "first_audio_s": round(first, 3),
            "warm_up_s": round(warm_s, 1),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
        })
        print(_line(rows[-1]), flush=True)
    del engine
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return rows


HEADER = (f"{'precision':>9} {'mode':>7} {'batch':>5} {'steps/s/take':>12} {'steps/s all':>11} {'RTF':>7} "
          f"{'x realtime':>10} {'first audio':>11} {'peak GiB':>8}")


def _line(row: dict) -> str:
    peak = "-" if row["peak_gib"] is None else f"{row['peak_gib']:.1f}"
    return (f"{row['precision']:>9} {row['mode']:>7} {row['batch']:>5} {row['steps_per_s_per_take']:>12.1f} "
            f"{row['steps_per_s_aggregate']:>11.1f} {row['rtf']:>7.3f} {row['x_realtime_aggregate']:>10.1f} "
            f"{row['first_audio_s']:>10.3f}s {peak:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="scaled-down model on CPU: checks the whole run")
    parser.add_argument("--tokens", type=int, default=None, help="steps per take (default 250 = 10 s of audio)")
    parser.add_argument("--batches", type=int, nargs="+", default=None)
    parser.add_argument("--modes", nargs="+", default=["eager", "compile"], choices=["eager", "compile"])
    parser.add_argument("--precisions", nargs="+", default=["bf16", "8bit", "4bit"], choices=["bf16", "8bit", "4bit"])
    parser.add_argument("--json", default="gpu_bench.json", help="where to write the table as JSON")
    args = parser.parse_args(argv)
    args.tokens = args.tokens or (30 if args.dry_run else 250)
    args.batches = args.batches or ([1, 2] if args.dry_run else [1, 4, 8, 16])
    if not args.dry_run and not torch.cuda.is_available():
        parser.error("no CUDA GPU here: use --dry-run for the scaled-down CPU run")

    if args.dry_run:
        model_path, precisions, modes = "tiny-random", ["bf16"], ["eager"]  # compile on CPU: minutes, no signal
        print("dry run: tiny-random on CPU (float32); the figures check the run, not a GPU", flush=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="hvs-full-"))
        started = time.perf_counter()
        build_random_checkpoint(folder, final_dir=folder, full_size=True)
        print(f"built the full-size random checkpoint in {time.perf_counter() - started:.0f} s; "
              f"{torch.cuda.get_device_name()}", flush=True)
        model_path, precisions, modes = str(folder), args.precisions, args.modes

    print(HEADER, flush=True)
    rows, skipped = [], []
    for precision in precisions:
        quantize = None if precision == "bf16" else precision
        if quantize and importlib.util.find_spec("bitsandbytes") is None:
            skipped.append(f"{precision}: bitsandbytes is not installed (pip install bitsandbytes)")
            continue
        for mode in modes:
            if quantize and mode == "compile":
                continue  # bitsandbytes kernels are not compiled: eager only
            rows += measure(model_path, args, compile=mode == "compile", quantize=quantize)
    for line in skipped:
        print(f"skipped {line}", flush=True)
    Path(args.json).write_text(json.dumps({"rows": rows, "skipped": skipped, "tokens": args.tokens,
                                           "device": torch.cuda.get_device_name() if torch.cuda.is_available()
                                           else "cpu"}, indent=2))
    print(f"wrote {args.json}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
