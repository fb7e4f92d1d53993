"""Command line: `python -m inference "Hello there." --reference me.wav --reference-text "..." --out take.wav`.

User mistakes end with one line on stderr and exit code 2; a model that cannot be loaded exits 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .errors import InvalidRequest, ModelLoadError, StudioError
from .loading import DEFAULT_MODEL_ID
from .schema import MAX_CANDIDATES, MAX_TEXT_CHARS, SamplingOptions, SynthesisRequest
from .take_check import DEFAULT_SPEAKER_MODEL
from .transcribe import DEFAULT_ASR_MODEL


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """A mistyped option is a user mistake too: one line, not the whole usage text."""
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m inference", description="Speak a text with Higgs Audio V2, optionally in a cloned voice."
    )
    parser.add_argument("text", help=f"what to say (at most {MAX_TEXT_CHARS} characters; '-' reads stdin)")
    parser.add_argument("--reference", type=Path, help="a clip of the voice to clone (wav, flac, mp3, ogg, m4a, webm)")
    parser.add_argument("--reference-text", help="exact transcript of the reference clip")
    parser.add_argument("--scene", help='tone / scene, e.g. "Audio is recorded from a quiet room."')
    parser.add_argument("--out", type=Path, default=Path("out.wav"), help="output file, .wav or .mp3 (default out.wav)")
    parser.add_argument("--seed", type=int, help="seed for a reproducible take (default: random, printed)")
    parser.add_argument("--model", default=DEFAULT_MODEL_ID, help="Hub id, local checkpoint path, or tiny-random")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    parser.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, float16")
    parser.add_argument("--show-prompt", action="store_true", help="print the rendered prompt and exit")
    check = parser.add_argument_group("take check and watermark")
    check.add_argument("--candidates", type=int, default=1,
                       help=f"make N takes (1-{MAX_CANDIDATES}) with different seeds and keep the best-scored one")
    check.add_argument("--check", action="store_true", help="score the take: words heard and voice similarity")
    check.add_argument("--asr-model", default=DEFAULT_ASR_MODEL, help="Whisper model for the words ('none': off)")
    check.add_argument("--speaker-model", default=DEFAULT_SPEAKER_MODEL,
                       help="speaker model for the voice similarity ('none': off)")
    check.add_argument("--no-watermark", action="store_true",
                       help="write the take without the watermark (also HVS_WATERMARK=0)")
    parser.add_argument("--quiet", action="store_true", help="only errors on stderr")
    sampling = parser.add_argument_group("sampling")
    for name, field in SamplingOptions.model_fields.items():
        kind = type(field.default)
        sampling.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                              help=f"{field.description or name} (default {field.default})")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    if args.quiet:  # before transformers is imported: no progress bars, no library notices
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        return _run(args)
    except InvalidRequest as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ModelLoadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except StudioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    suffix = args.out.suffix.lower().lstrip(".")
    if not args.show_prompt and suffix not in ("wav", "mp3"):
        raise InvalidRequest(f"--out must end in .wav or .mp3 (got {args.out.name}).")
    sampling = {name: getattr(args, name) for name in SamplingOptions.model_fields}
    request = SynthesisRequest.parse(
        text=text, reference_audio=args.reference, reference_text=args.reference_text, scene=args.scene,
        seed=args.seed, candidates=args.candidates, **sampling,
    )
    if not args.show_prompt:
        _check_writable(args.out)  # before minutes of generation, not after

    from .audio import encode
    from .best_of import make_takes
    from .engine import Engine
    from .take_check import SpeakerEncoder, TakeChecker
    from .transcribe import Transcriber

    engine = Engine(args.model, device=args.device, dtype=args.dtype, watermark=False if args.no_watermark else None)
    if args.show_prompt:
        prompt = engine.render_prompt(request)
        print(prompt.rendered)
        if prompt.audio_frames:
            print(f"\n# <|AUDIO_OUT|> above stands for the reference audio: {prompt.audio_frames} frames "
                  "(25 per second, with stream BOS/EOS and the 8-codebook delay).", file=sys.stderr)
        return 0
    checker = TakeChecker(Transcriber(args.asr_model), SpeakerEncoder(args.speaker_model))
    takes = make_takes(engine, request, checker, check=args.check)
    result = takes.result
    try:
        args.out.write_bytes(encode(result.waveform, suffix, result.sample_rate))
    except OSError as err:
        raise InvalidRequest(f"could not write {args.out}: {err.strerror or err}.") from None
    if args.quiet:
        return 0
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
    return 0


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise InvalidRequest(f"--out {out} is a folder; give a file name such as {out / 'take.wav'}.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidRequest(f"cannot create the folder for --out {out}: {err.strerror or err}.") from None
    if not os.access(out.parent, os.W_OK):
        raise InvalidRequest(f"cannot write to {out.parent}: permission denied.")
