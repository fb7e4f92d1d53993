"""`python -m inference train --data RECORDINGS_OR_DATASET --name NAME --speaker WHO --consent`: cut the
recordings into clips, transcribe them, train a LoRA adapter and keep the best one as a voice in the trained-voices
folder (HVS_TRAINED_DIR). See docs/training.md.

`--prepare-only` stops after the dataset is written, so the transcripts can be corrected in its metadata.csv;
then `--data` that dataset folder trains on it as it is. `--resume` goes on from the last checkpoint.
Exit codes as the main CLI: 2 for a user mistake, 3 for a model that cannot be loaded, 130 on Ctrl-C (the
checkpoint at the last eval is kept: --resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inference.model.loading import DEFAULT_MODEL_ID
from inference.scoring.take_check import DEFAULT_SPEAKER_MODEL, SpeakerEncoder, TakeChecker
from inference.scoring.transcribe import DEFAULT_ASR_MODEL, Transcriber
from inference.training.card import check_consent, consent_statement
from inference.training.options import DEFAULT_TARGETS, TrainOptions
from inference.training.slicing import Slicing
from settings import Settings


def build_parser(parser_class) -> argparse.ArgumentParser:
    parser = parser_class(prog="python -m inference train",
                          description="Train a voice (a LoRA adapter) from minutes of recordings of one speaker.")
    parser.add_argument("--data", nargs="+", type=Path, required=True,
                        help="recordings (files or a folder of them), an audiofolder (metadata.csv with file_name,"
                             "transcription) or an LJSpeech folder (wavs/ + metadata.csv)")
    parser.add_argument("--name", required=True, help="the voice's name (its folder: lower-case, dashes)")
    parser.add_argument("--speaker", help="whose voice it is, for the card (default: --name)")
    parser.add_argument("--consent", action="store_true",
                        help=f"confirm: \"{consent_statement('<speaker>')}\" (required)")
    parser.add_argument("--steps", type=int, default=300, help="training steps, one clip each (default 300)")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank (default 16)")
    parser.add_argument("--alpha", type=int, help="LoRA alpha (default: twice the rank)")
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                        help="linears to adapt, comma-separated (default q_proj,k_proj,v_proj,o_proj; "
                             "add audio_mlp.gate_proj,audio_mlp.up_proj,audio_mlp.down_proj for the audio MLP)")
    parser.add_argument("--lr", type=float, default=1e-4, help="learning rate (default 1e-4)")
    parser.add_argument("--eval-every", type=int, default=25, help="steps between held-out scores (default 25)")
    parser.add_argument("--patience", type=int, default=3, help="evals without a better score before stopping")
    parser.add_argument("--held-out", type=int, default=2, help="clips kept out of training for scoring (default 2)")
    parser.add_argument("--min-seconds", type=float, default=60.0, help="least speech to train on (default 60)")
    parser.add_argument("--resume", action="store_true", help="go on from the last checkpoint of this voice")
    parser.add_argument("--prepare-only", action="store_true", help="write the dataset and stop (edit transcripts)")
    parser.add_argument("--model", default=DEFAULT_MODEL_ID, help="Hub id, local checkpoint path, or tiny-random")
    parser.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N")
    parser.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU), float32, bfloat16")
    parser.add_argument("--asr-model", default=DEFAULT_ASR_MODEL, help="Whisper model for transcripts ('none': off)")
    parser.add_argument("--speaker-model", default=DEFAULT_SPEAKER_MODEL,
                        help="speaker model that finds clips in another voice ('none': off)")
    return parser


def run(argv: list[str], settings: Settings, parser_class) -> int:
    from inference.training.voice import VoiceRequest, load_for_training, prepare, samples_folder, train_voice

    args = build_parser(parser_class).parse_args(argv)
    speaker = args.speaker or args.name
    consent = check_consent(speaker, args.consent)
    trained = settings.trained_root
    transcriber, voice = Transcriber(args.asr_model), SpeakerEncoder(args.speaker_model)
    prepared = prepare(args.data, trained, args.name, transcriber=transcriber, speaker=voice,
                       min_total_s=args.min_seconds, slicing=Slicing(),
                       progress=lambda line: print(line, file=sys.stderr))
    for line in prepared.refused + prepared.notes:
        print(f"note: {line}", file=sys.stderr)
    print(f"dataset: {len(prepared.rows)} clips in {prepared.folder}", file=sys.stderr)
    if args.prepare_only:
        print(f"correct the transcripts in {prepared.folder / 'metadata.csv'}, then train with "
              f"--data {prepared.folder}", file=sys.stderr)
        return 0
    options = TrainOptions(steps=args.steps, rank=args.rank, alpha=args.alpha or 2 * args.rank,
                           targets=tuple(t.strip() for t in args.targets.split(",") if t.strip()), lr=args.lr,
                           eval_every=args.eval_every, patience=args.patience, held_out=args.held_out)
    processor, model = load_for_training(args.model, args.device, args.dtype)
    request = VoiceRequest(args.name, speaker, consent, args.model, options)
    with _ProgressBar(args.steps) as bar:  # Ctrl-C: the checkpoint of the last eval stays, for --resume
        outcome, folder = train_voice(processor, model, trained, request, progress=bar.update, resume=args.resume,
                                      checker=TakeChecker(transcriber, voice))
    if outcome.early:
        print(f"stopped early at step {outcome.step}: the held-out score stopped improving", file=sys.stderr)
    best = outcome.best or {}
    print(f"trained voice {args.name!r} in {folder} (best at step {best.get('step')}: held-out loss "
          f"{best.get('loss', float('nan')):.3f}, accuracy {best.get('accuracy', 0):.1%}{_checked(best)}); "
          f"hear it beside the base voice in {samples_folder(trained, args.name)}", file=sys.stderr)
    return 0


def _checked(best: dict) -> str:
    parts = [f", {label} {best[name]:.2f}" for name, label in (("words_right", "words right"),
                                                               ("voice_similarity", "voice similarity"))
             if best.get(name) is not None]
    return "".join(parts)


class _ProgressBar:
    """A terminal bar: step, loss, the last held-out scores and the time left."""

    def __init__(self, steps: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=steps, unit="step", file=sys.stderr, dynamic_ncols=True)
        self.scores = ""

    def update(self, progress) -> None:
        if progress.eval:
            self.scores = f" held-out {progress.eval['loss']:.3f}/{progress.eval['accuracy']:.0%}"
        self.bar.n = progress.step
        minutes, seconds = divmod(int(progress.seconds_left), 60)
        self.bar.set_postfix_str(f"loss {progress.loss:.3f}{self.scores} left {minutes}:{seconds:02d}")

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.bar.close()
