"""Train a voice end to end, for the CLI and the studio alike: recordings -> dataset (data.py) -> LoRA run
(trainer.py) -> the best adapter and its card in the trained-voices folder (card.py).

A voice's folder holds: adapter_config.json, adapter_model.safetensors, card.json (once trained);
dataset/ (clips/ + metadata.csv, an audiofolder); run/ (checkpoint/, best/, logs/ for TensorBoard)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from inference.contract.errors import InvalidRequest, StudioError
from inference.model.cards import read_card
from inference.training.card import make_card, now, publish, slug_of
from inference.training.data import Prepared, prepare_dataset, read_metadata
from inference.training.options import TrainOptions
from inference.training.slicing import Slicing
from inference.training.trainer import Outcome, Progress, Trainer


@dataclass(frozen=True)
class VoiceRequest:
    name: str
    speaker: str
    consent: str  # the statement confirmed (card.check_consent)
    base_model: str
    options: TrainOptions = TrainOptions()
    consent_at: str = field(default_factory=now)  # when it was confirmed


def voice_folder(trained: Path, name: str) -> Path:
    return Path(trained) / slug_of(name)


def prepare(sources: list[Path], trained: Path, name: str, *, transcriber=None, speaker=None,
            min_total_s: float = 60.0, slicing: Slicing | None = None,
            progress: Callable[[str], None] = lambda _: None) -> Prepared:
    """The voice's dataset from `sources`, written afresh; given the voice's own dataset folder, it is kept."""
    folder = voice_folder(trained, name) / "dataset"
    if [Path(s).resolve() for s in sources] == [folder.resolve()] and (folder / "metadata.csv").is_file():
        return Prepared(folder, [(file, text, 0.0) for file, text in read_metadata(folder)])
    staging = folder.with_name("dataset.new")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
    except OSError as err:  # HVS_TRAINED_DIR is a file, read-only, or full
        raise StudioError(f"The trained-voices folder cannot be written ({err.strerror or type(err).__name__}): set "
                          "HVS_TRAINED_DIR to a folder this studio may write in.") from None
    try:
        prepared = prepare_dataset(sources, staging, transcriber=transcriber, speaker=speaker,
                                   min_total_s=min_total_s, slicing=slicing, progress=progress)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    prepared.folder = folder
    return prepared


def train_voice(processor, model, trained: Path, request: VoiceRequest, *, stop: threading.Event | None = None,
                progress: Callable[[Progress], None] | None = None, pause: Callable[[], bool] | None = None,
                resume: bool = False, checker=None) -> tuple[Outcome, Path | None]:
    """Train on the voice's dataset; publish the best adapter with its card unless stopped, and write a held-out
    sentence in the trained and the base voice (samples_folder). Returns the outcome and the published folder
    (None when stopped: resume later). `checker`: a TakeChecker that scores held-out sentences at each eval."""
    folder = voice_folder(trained, request.name)
    _check_same_speaker(folder, request)
    trainer = Trainer(processor, model, folder / "dataset", folder / "run", request.options, request.base_model,
                      checker=checker)
    outcome = trainer.run(stop=stop, progress=progress, pause=pause, resume=resume)
    if outcome.stopped or outcome.best is None:
        return outcome, None
    card = make_card(name=request.name, speaker=request.speaker, consent=request.consent, consent_at=request.consent_at,
                     minutes=trainer.seconds / 60, clips=len(trainer.train_set) + len(trainer.held_out),
                     steps=outcome.step, rank=request.options.rank, scores=outcome.best, base_model=request.base_model)
    published = publish(trainer.best_folder, folder, card)
    trainer.write_samples(samples_folder(trained, request.name))
    return outcome, published


def _check_same_speaker(folder: Path, request: VoiceRequest) -> None:
    """A voice trained again keeps its speaker: another person's recordings under a trained voice's name would
    replace that voice at every door that serves it by name."""
    before = read_card(folder).get("speaker")
    who = lambda name: " ".join(name.split()).casefold()  # noqa: E731 - "Ada  lovelace" is "Ada Lovelace"
    if isinstance(before, str) and before.strip() and who(before) != who(request.speaker):
        raise InvalidRequest(f"A voice named {folder.name!r} is already trained from {before}'s recordings: give this "
                             "voice another name (training it here would replace that voice).")


def samples_folder(trained: Path, name: str) -> Path:
    """sentence.txt, trained.wav and base.wav: a held-out sentence in the new voice and in the base voice."""
    return voice_folder(trained, name) / "run" / "samples"


def load_for_training(model_id: str, device: str = "auto", dtype: str = "auto"):
    """(processor, model) as the engine loads them: bf16 on a GPU, fp32 on the CPU."""
    from inference.model.loading import load_model, pick_device, pick_dtype, resolve_checkpoint

    chosen = pick_device(device)
    return load_model(resolve_checkpoint(model_id), chosen, pick_dtype(dtype, chosen))
