"""Command line: `python -m inference "Hello there." --reference me.wav --reference-text "..." --out take.wav`,
`python -m inference "Hello." --voice alloy`, or a dialogue:
`python -m inference --script talk.txt --speaker Alice=alice.wav --speaker Bob=robot_en`.
Voice names go through the studio's one voice rule (studio/voices.py), as at every other door.

User mistakes end with one line on stderr and exit code 2 (a bad environment variable too: settings.py);
a model that cannot be loaded exits 3.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from cli.output import check_writable, report, write
from cli.recipe import add_recipe_flags, read_recipe, run_edit, wants_recipe_edit
from cli.take import take_request
from inference.audio.subtitles import FORMATS as SUBTITLE_FORMATS
from inference.contract.errors import BadSetting, InvalidRequest, ModelLoadError, StudioError
from inference.contract.request import (
    DEFAULT_PAUSE_S,
    MAX_CANDIDATES,
    MAX_TEXT_CHARS,
    VOICE_LAYOUTS,
    SamplingOptions,
)
from inference.model.loading import DEFAULT_MODEL_ID
from inference.scoring.take_check import DEFAULT_SPEAKER_MODEL, SpeakerEncoder, TakeChecker
from inference.scoring.transcribe import DEFAULT_ASR_MODEL, Transcriber
from settings import SettingError, Settings
from studio.best_of import Takes
from studio.service import Studio
from studio.take_request import engine_request
from studio.voices import resolver_for


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """A mistyped option is a user mistake too: one line, not the whole usage text."""
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m inference", description="Speak a text with Higgs Audio V2, optionally in a cloned voice."
    )
    parser.add_argument("text", nargs="?", help=f"what to say (at most {MAX_TEXT_CHARS} characters; '-' reads stdin)")
    parser.add_argument("--voice", help="a voice name (smart, a preset such as robot_en, a trained voice, a described "
                                        "voice such as calm-narrator, an OpenAI name such as alloy) or several words "
                                        "describing a voice (default: smart)")
    parser.add_argument("--reference", type=Path, help="a clip of the voice to clone (wav, flac, mp3, ogg, m4a, webm)")
    parser.add_argument("--reference-text", help="exact transcript of the reference clip")
    parser.add_argument("--scene", help='tone / scene, e.g. "Audio is recorded from a quiet room."')
    parser.add_argument("--out", default="out.wav", help="output file, .wav or .mp3 (default out.wav)")
    parser.add_argument("--seed", type=int, help="seed for a reproducible take (default: random, printed)")
    parser.add_argument("--model", default=None, help=f"Hub id, local checkpoint path, or tiny-random (default "
                                                      f"{DEFAULT_MODEL_ID}; an edited recipe's own model)")
    parser.add_argument("--backend", default="local",
                        help="local (default), runpod:<endpoint-id> or openai:<base-url>: who generates the take")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps")
    parser.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, float16")
    parser.add_argument("--subtitles", type=Path, help="also write the take's timed text, .vtt or .srt")
    parser.add_argument("--show-prompt", action="store_true", help="print the rendered prompt and exit")
    parser.add_argument("--parts", choices=("length", "sentence"), default="length",
                        help="how a long text is cut into parts: length (~100 words a part, default) or sentence "
                             "(every sentence a part, to revise one sentence at a time with --revise)")
    dialogue = parser.add_argument_group("dialogue (see docs/cli.md for the script format)")
    dialogue.add_argument("--script", type=Path, help="a dialogue script file ('Alice: Hello.' or '[SPEAKER0] Hello.' "
                                                      "lines; '-' reads stdin), instead of TEXT")
    dialogue.add_argument("--speaker", action="append", default=[], metavar="NAME=VOICE",
                          help="a speaker's voice: a clip file, or a voice name or words as --voice takes "
                               "(repeatable; speakers without one get a smart voice)")
    dialogue.add_argument("--speaker-text", action="append", default=[], metavar="NAME=TRANSCRIPT",
                          help="exact transcript of a speaker's clip")
    dialogue.add_argument("--speaker-description", action="append", default=[], metavar="NAME=WORDS",
                          help="a speaker's voice described in words, e.g. Bob='warm, low male voice'")
    dialogue.add_argument("--pause", type=float, default=None, help=f"seconds between turns (default {DEFAULT_PAUSE_S})")
    dialogue.add_argument("--voice-layout", choices=VOICE_LAYOUTS, default=None,
                          help="scene: every voice in every turn's prompt (official, default); separate: only the "
                               "speaking voice, which keeps voices apart")
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
    add_recipe_flags(parser)
    sampling = parser.add_argument_group("sampling")
    for name, field in SamplingOptions.model_fields.items():
        kind = type(field.default)
        sampling.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                              help=f"{field.description or name} (default {field.default})")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["train"]:  # the subcommand that trains a voice (cli/train.py)
        from cli.train import run as train

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        return _guarded(lambda: train(argv[1:], Settings.from_env(), _Parser))
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    if args.quiet:  # before transformers is imported: no progress bars, no library notices (the libraries'
        # own variables, set for them here; the studio's own settings are read in settings.py only)
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    return _guarded(lambda: _run(args, Settings.from_env()))


def _guarded(work) -> int:
    """Run the command; a mistake or a failure ends with one line on stderr and its exit code."""
    try:
        return work()
    except (InvalidRequest, BadSetting, SettingError) as err:
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


def _run(args: argparse.Namespace, settings: Settings) -> int:
    _check_outputs(args)
    editing = wants_recipe_edit(args)
    recipe = read_recipe(args.recipe) if editing else None  # read once: its model is the one an edit runs
    args.model = args.model or (recipe.model if editing else DEFAULT_MODEL_ID)
    voices = resolver_for(settings)
    request = None if editing else engine_request(take_request(args, voices), voices)
    checker = TakeChecker(Transcriber(args.asr_model), SpeakerEncoder(args.speaker_model))  # loads on first use
    if (args.candidates > 1 or args.check) and not checker.enabled:
        raise InvalidRequest(f"{'--candidates' if args.candidates > 1 else '--check'} needs the take check: leave "
                             "--asr-model or --speaker-model on (not 'none').")
    if not args.show_prompt:
        for path in (args.out, args.subtitles, args.recipe):
            if path:
                check_writable(path)  # before minutes of generation, not after
    if args.show_prompt and editing:
        raise InvalidRequest("--show-prompt goes with a TEXT or --script, not with a recipe edit.")
    engine = _engine(args, settings)
    if args.show_prompt:
        return _show_prompt(engine, request)
    if editing:
        takes = Takes(run_edit(args, settings, engine, recipe), [None])
    else:  # through the service, as at every door (its length rule: a short take on the noise model)
        takes = Studio(engine, resolver=voices, checker=checker).make_takes(request, check=args.check)
    _save(args, takes.result)
    if not args.quiet:
        report(args, takes)
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """The output files' names, before anything is loaded."""
    if args.out.endswith(("/", os.sep)) or Path(args.out).is_dir():
        raise InvalidRequest(f"--out {args.out} is a folder; give a file name such as "
                             f"{Path(args.out) / 'take.wav'}.")
    args.out = Path(args.out)
    if not args.show_prompt and args.out.suffix.lower() not in (".wav", ".mp3"):
        raise InvalidRequest(f"--out must end in .wav or .mp3 (got {args.out.name}).")
    if args.subtitles and args.subtitles.suffix.lower().lstrip(".") not in SUBTITLE_FORMATS:
        raise InvalidRequest(f"--subtitles must end in .vtt or .srt (got {args.subtitles.name}).")
    if args.recipe and args.recipe.suffix.lower() != ".json":
        raise InvalidRequest(f"--recipe must end in .json (got {args.recipe.name}).")


def _engine(args: argparse.Namespace, settings: Settings):
    from backends import build_engine

    local = {"watermark": settings.watermark and not args.no_watermark, "max_batch": settings.max_batch,
             "cpu_threads": settings.cpu_threads, "trained_dir": settings.trained_root,
             "max_adapters": settings.max_adapters}
    options = local if args.backend == "local" else settings.remote_options(args.backend)
    return build_engine(args.backend, args.model, device=args.device, dtype=args.dtype, **options)


def _show_prompt(engine, request) -> int:
    prompt = engine.render_prompt(request)
    print(prompt.rendered)
    if prompt.audio_frames:
        print(f"\n# <|AUDIO_OUT|> above stands for the reference audio: {prompt.audio_frames} frames "
              "(25 per second, with stream BOS/EOS and the 8-codebook delay).", file=sys.stderr)
    return 0


def _save(args: argparse.Namespace, result) -> None:
    from inference.audio.codec import encode

    if args.recipe and result.recipe is None:
        raise StudioError(f"The {args.backend} backend gives no recipe: --recipe needs the local model.")
    write(args.out, encode(result.waveform, args.out.suffix.lower().lstrip("."), result.sample_rate))
    if args.recipe:
        write(args.recipe, result.recipe.to_json().encode("utf-8"))
    if args.subtitles:
        from inference.audio.subtitles import render

        write(args.subtitles, render(result.segments, args.subtitles.suffix).encode("utf-8"))
