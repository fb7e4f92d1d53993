"""Editing a take from its recipe: one part made anew against the whole take made again (tiny-random, CPU).

    python bench/revise.py                    # a 10-turn dialogue, 100 tokens (4 s) a turn
    python bench/revise.py --tokens 200 --repeats 3

Figures (ratios of timings in one run, so the machine's speed cancels out):
  revise / whole   Studio.revise of one part (generate it with the stored context, render the take from its
                   codes, mark it) / the whole take generated again with the same request  (target <= 0.25)
  recipe size      bytes of the recipe's JSON per minute of audio (codes: 24 KB/min as int16, 32 KB in base64)
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

from inference import Engine, SynthesisRequest  # noqa: E402
from studio.revise import Edit  # noqa: E402
from studio.service import Studio  # noqa: E402
from studio.takes import TakeStore  # noqa: E402

SCRIPT = "\n".join(f"{'Alice' if i % 2 == 0 else 'Bob'}: This is turn number {i + 1} of our little talk."
                   for i in range(10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100, help="max_new_tokens per part (tiny-random never ends early)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--watermark", action="store_true", help="mark takes (off by default: it costs both sides)")
    args = parser.parse_args()
    engine = Engine("tiny-random", watermark=args.watermark).load()
    studio = Studio(engine, takes=TakeStore(tempfile.mkdtemp()))
    request = SynthesisRequest.parse(text=SCRIPT, speakers={}, max_new_tokens=args.tokens, seed=1)
    engine.synthesize(request.model_copy(update={"sampling": request.sampling.model_copy(
        update={"max_new_tokens": 16})}))  # warm up
    whole_s, revise_s = [], []
    for repeat in range(args.repeats):  # interleaved: both sides see the same machine
        started = time.perf_counter()
        result = engine.synthesize(request)
        whole_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        studio.revise(result.recipe, Edit(part=5, seed=100 + repeat))
        revise_s.append(time.perf_counter() - started)
    recipe = result.recipe.to_json()
    minutes = result.duration_s / 60
    figures = {
        "parts": len(result.recipe.parts), "audio_s": round(result.duration_s, 2),
        "whole_s": round(statistics.median(whole_s), 3), "revise_s": round(statistics.median(revise_s), 3),
        "revise_over_whole": round(statistics.median(revise_s) / statistics.median(whole_s), 3),
        "recipe_bytes": len(recipe), "recipe_kb_per_minute": round(len(recipe) / 1000 / minutes, 1),
    }
    print(f"{figures['parts']} parts, {figures['audio_s']} s of audio: whole take {figures['whole_s']} s, one part "
          f"revised {figures['revise_s']} s -> ratio {figures['revise_over_whole']} (target <= 0.25)")
    print(f"recipe {figures['recipe_bytes']} bytes = {figures['recipe_kb_per_minute']} KB per minute of audio")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
