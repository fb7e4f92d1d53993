"""Where a take goes: the files the command line writes, checked before minutes of generation."""

from __future__ import annotations

import sys
from pathlib import Path

from inference.contract.errors import InvalidRequest


def check_writable(out: Path) -> None:
    """Open the very file for writing (permission bits say nothing to root, nor about /proc or a full disk)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidRequest(f"cannot create the folder for --out {out}: {err.strerror or err}.") from None
    existed = out.exists()
    try:
        with open(out, "ab"):
            pass
    except OSError as err:
        raise InvalidRequest(f"cannot write --out {out}: {err.strerror or err}.") from None
    if not existed:
        out.unlink(missing_ok=True)


def write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        raise InvalidRequest(f"could not write {path}: {err.strerror or err}.") from None


def report(args, takes) -> None:
    """What was written, the take's warnings and its check scores, on stderr."""
    result = takes.result
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for i, score in enumerate(takes.scores if takes.score else []):
        kept = " (kept)" if i == takes.best and len(takes.scores) > 1 else ""
        missed = f"; missed: {' '.join(score.missed)}" if score.missed else ""
        added = f"; added: {' '.join(score.added)}" if score.added else ""
        print(f"take check, seed {score.seed}{kept}: {score.summary()}{missed}{added}", file=sys.stderr)
        for note in score.notes:
            print(f"  {note}", file=sys.stderr)
    t = result.timings
    print(f"wrote {args.out} ({result.duration_s:.2f} s at {result.sample_rate} Hz, seed {result.seed}, "
          f"generated in {t.total_s:.2f} s, real-time factor {t.real_time_factor:.2f})", file=sys.stderr)
    if args.subtitles:
        print(f"wrote {args.subtitles} ({len(result.segments)} cues)", file=sys.stderr)
    if args.recipe:
        print(f"wrote {args.recipe} (the take's recipe: {len(result.recipe.parts)} parts)", file=sys.stderr)
