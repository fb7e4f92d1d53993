"""Peak memory of one take against its length (tiny-random on CPU), each length in a fresh process.

    python bench/memory.py                          # 500, 1000, 2000, 4096 tokens (20, 40, 80, 164 s)
    python bench/memory.py --tokens 500 4096        # other lengths
    python bench/memory.py --takes 3 --tokens 4096  # several takes of that length at once
    python bench/memory.py --chars 2000 --tokens 4096   # the longest take: 2000 characters are 5 parts

Each length runs in a subprocess of its own: it loads the engine, warms it up, notes its resident memory
(RSS), resets the kernel's peak-RSS counter (/proc/self/clear_refs), runs the take(s) and reads the peak
(VmHWM). On tiny-random every take runs to max_new_tokens (its checkpoint never emits the end of the
stream), so each part is exactly as long as asked for; a text of `--chars` characters is spoken in parts
(long-text chunks of ~100 words), each of --tokens. The watermark is off (its blocks are 1 s each, so
its memory does not grow with the take); `--watermark` turns it on. Prints a table (MB) and a JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "A long take for the memory benchmark: the studio reads this sentence while the model makes noise. "


def text_of(chars: int) -> str:
    """The sentence repeated to about `chars` characters (at least once)."""
    return (SENTENCE * (chars // len(SENTENCE) + 1))[:max(chars, len(SENTENCE))].rsplit(" ", 1)[0] + "."


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def child(tokens: int, takes: int, chars: int, watermark: bool) -> dict:
    """One measurement, in this (fresh) process."""
    sys.path.insert(0, str(ROOT))
    from inference import Engine, SynthesisRequest

    engine = Engine("tiny-random", watermark=watermark).load()
    engine.warm_up()
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS := current RSS
    requests = [SynthesisRequest.parse(text=text_of(chars), max_new_tokens=tokens, seed=i) for i in range(takes)]
    started = time.perf_counter()
    results = []
    threads = [threading.Thread(target=lambda r: results.append(engine.synthesize(r)), args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if len(results) != takes:
        raise RuntimeError("a take failed (see the log above)")
    return {"tokens": tokens, "takes": takes, "chars": chars, "parts": results[0].chunks,
            "audio_s": round(results[0].duration_s, 1), "rss_before_mb": before // 1024,
            "peak_mb": _status_kb("VmHWM") // 1024, "wall_s": round(seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[500, 1000, 2000, 4096])
    parser.add_argument("--takes", type=int, default=1, help="takes of each length at once")
    parser.add_argument("--chars", type=int, default=0, help="characters of text (default: one sentence)")
    parser.add_argument("--watermark", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.takes, args.chars, args.watermark)))
        return
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    rows = []
    for tokens in args.tokens:
        command = [sys.executable, __file__, "--child", str(tokens), "--takes", str(args.takes), "--chars", str(args.chars)]
        command += ["--watermark"] if args.watermark else []
        out = subprocess.run(command, env=env, capture_output=True, text=True)
        if out.returncode:
            sys.exit(f"the measurement of {tokens} tokens failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  measured {tokens} tokens", file=sys.stderr)
    first = rows[0]["peak_mb"]
    print(f"{'tokens':>6} {'parts':>5} {'audio s':>8} {'takes':>5} {'RSS before MB':>13} {'peak MB':>8} "
          f"{'peak / first':>12} {'take MB':>8} {'wall s':>7}")
    for row in rows:
        print(f"{row['tokens']:>6} {row['parts']:>5} {row['audio_s']:>8} {row['takes']:>5} {row['rss_before_mb']:>13} "
              f"{row['peak_mb']:>8} {row['peak_mb'] / first:>12.2f} {row['peak_mb'] - row['rss_before_mb']:>8} "
              f"{row['wall_s']:>7}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
