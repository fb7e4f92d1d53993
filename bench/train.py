"""Training speed and memory of a LoRA run (inference/training/), on random weights (no download).

    python bench/train.py                 # tiny-random on CPU: steps per second (BENCHMARKS.md)
    python bench/train.py --full-size     # on a GPU: the full-size model from the released configuration with
                                          # random weights, bf16, LoRA r=16 on q/k/v/o with gradient
                                          # checkpointing: seconds per step and peak GPU memory (bench/gpu.sh)

The clips are random noise of --seconds each (the step's cost depends on the clip's length, not its sound).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from inference.audio.codec import encode_wav  # noqa: E402
from inference.model.tiny_model import build_random_checkpoint  # noqa: E402
from inference.training.data import write_metadata  # noqa: E402
from inference.training.options import TrainOptions  # noqa: E402
from inference.training.trainer import Trainer  # noqa: E402
from inference.training.voice import load_for_training  # noqa: E402


def noise_dataset(folder: Path, clips: int, seconds: float) -> Path:
    (folder / "clips").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for number in range(clips):
        wave = (0.1 * rng.standard_normal(int(seconds * 24_000))).astype(np.float32)
        (folder / f"clips/{number}.wav").write_bytes(encode_wav(wave))
    write_metadata(folder, [(f"clips/{n}.wav", "A benchmark sentence, read at an even pace.") for n in range(clips)])
    return folder


def measure(model: str, args) -> dict:
    device = "cuda" if args.full_size else "cpu"
    processor, lm = load_for_training(model, device)
    work = Path(tempfile.mkdtemp(prefix="hvs-train-bench-"))
    options = TrainOptions(steps=args.warmup + args.steps, rank=args.rank, alpha=2 * args.rank,
                           eval_every=10**9, held_out=1, checkpointing=args.full_size)
    trainer = Trainer(processor, lm, noise_dataset(work / "data", 4, args.seconds), work / "run", options, model)
    times: list[float] = []
    last = [time.perf_counter()]

    def tick(_progress) -> None:
        if args.full_size:
            torch.cuda.synchronize()
        now = time.perf_counter()
        times.append(now - last[0])
        last[0] = now
        if len(times) == args.warmup and args.full_size:
            torch.cuda.reset_peak_memory_stats()

    trainer.run(progress=tick)
    measured = times[args.warmup:-1]  # the last step also scores the held-out clip and saves
    return {"model": "full-size random" if args.full_size else "tiny-random", "device": device,
            "dtype": str(next(lm.parameters()).dtype).removeprefix("torch."), "rank": args.rank,
            "checkpointing": args.full_size, "clip_s": args.seconds, "steps": len(measured),
            "s_per_step": round(float(np.median(measured)), 4), "steps_per_s": round(1 / float(np.median(measured)), 2),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if args.full_size else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-size", action="store_true", help="the full-size model on a CUDA GPU")
    parser.add_argument("--steps", type=int, default=20, help="steps measured (after --warmup)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=None, help="clip length (default 2 s tiny, 10 s full size)")
    parser.add_argument("--json", help="also write the result as JSON here")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (10.0 if args.full_size else 2.0)
    if args.full_size and not torch.cuda.is_available():
        parser.error("--full-size needs a CUDA GPU")
    model = "tiny-random"
    if args.full_size:
        model = tempfile.mkdtemp(prefix="hvs-full-")
        build_random_checkpoint(Path(model), final_dir=Path(model), full_size=True)
    result = measure(model, args)
    print(json.dumps(result), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
