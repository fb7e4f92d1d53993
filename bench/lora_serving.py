"""Trained voices in a batch: 4 takes with 4 different LoRA adapters against 4 base takes, on one engine
(tiny-random on CPU unless --model/--device say otherwise).

    python bench/lora_serving.py                 # prints one line per figure, then a JSON line
    python bench/lora_serving.py --tokens 300 --repeats 5 --rank 16

Figures (each a ratio of timings taken in the same run, interleaved, so the machine's speed cancels out):
  throughput      4 base takes at once / 4 takes with 4 different adapters at once (wall time; target >= 0.8)
  solo            one base take / one take with an adapter (the cost of an adapter for a lone take)
  seeded batch    share of adapter takes whose batched waveform equals their solo waveform (target 1.00)
The adapters are random, on q/k/v/o and the audio MLP's down projection of every layer, rank --rank.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.cpu import concurrently  # noqa: E402
from inference import Engine, SynthesisRequest  # noqa: E402
from inference.model.cards import save_adapter  # noqa: E402

TARGETS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "audio_mlp.down_proj")
NAMES = ("voice-a", "voice-b", "voice-c", "voice-d")


def write_adapters(root: Path, model, model_id: str, rank: int) -> None:
    rng = np.random.default_rng(0)
    shapes = {path: (m.in_features, m.out_features) for path, m in model.named_modules() if path.endswith(TARGETS)}
    for name in NAMES:
        layers = {path: (rng.standard_normal((rank, i)) * 0.1, rng.standard_normal((o, rank)) * 0.1)
                  for path, (i, o) in shapes.items()}
        save_adapter(root / name, layers, model_id, alpha=2 * rank)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny-random")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens", type=int, default=300, help="length of each take (300 tokens = 12 s of audio)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rank", type=int, default=16)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lora-bench-"))
    engine = Engine(args.model, device=args.device, max_batch=4, watermark=False, trained_dir=root).load()
    write_adapters(root, engine.model, args.model, args.rank)

    def take(adapter: str | None, seed: int):
        return engine.synthesize(SynthesisRequest.parse(text=f"Visitor {seed} asks for a sentence of their own.",
                                                        seed=seed, max_new_tokens=args.tokens, adapter=adapter))

    for name in (None, *NAMES):  # warm up, and load every adapter once
        take(name, 0)
    base_runs, lora_runs, solo_base, solo_lora = [], [], [], []
    for _ in range(args.repeats):  # interleaved, so drift in the machine's speed hits both alike
        base_runs.append(concurrently(lambda i: take(None, i), list(range(4)))[0])
        lora_runs.append(concurrently(lambda i: take(NAMES[i], i), list(range(4)))[0])
        solo_base.append(_timed(take, None, 9))
        solo_lora.append(_timed(take, NAMES[0], 9))
    together = concurrently(lambda i: take(NAMES[i], 100 + i), list(range(4)))[1]
    equal = sum(np.array_equal(take(NAMES[i], 100 + i).waveform, together[i].waveform) for i in range(4))
    figures = {
        "throughput": statistics.median(base_runs) / statistics.median(lora_runs),
        "solo": statistics.median(solo_base) / statistics.median(solo_lora),
        "seeded_batch": equal / 4,
        "base_batch_s": statistics.median(base_runs), "lora_batch_s": statistics.median(lora_runs),
        "tokens": args.tokens, "rank": args.rank, "repeats": args.repeats, "model": args.model,
        "device": str(engine.device),
    }
    print(f"throughput   4 adapters / 4 base takes in a batch: {figures['throughput']:.2f} (target >= 0.8; "
          f"{figures['lora_batch_s']:.2f} s vs {figures['base_batch_s']:.2f} s)")
    print(f"solo         one take with an adapter / without: {figures['solo']:.2f}")
    print(f"seeded batch adapter takes equal to their solo takes: {figures['seeded_batch']:.2f} (target 1.00)")
    print(json.dumps(figures))


def _timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
