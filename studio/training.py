"""Training a voice from the studio: one run at a time, in a thread of its own, beside the takes.

GPU time is shared by one rule: **training pauses between steps while takes are being made or wait**; takes go
first, and a step under way finishes (a second or so on a 24 GB GPU). The run trains a copy of the serving
model's module tree that shares its weights (inference/training/lora.py), so serving goes on unchanged.
On a ZeroGPU Space (a GPU lent per call, for seconds) and with a remote backend (no model in this process)
training is refused with a sentence. The engine's own parts (VAD, Whisper, the LoRA loop) are imported when a
run starts: this module itself needs no torch.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.contract.errors import InvalidRequest, StudioError
from inference.training.card import check_consent, slug_of
from inference.training.data import read_metadata, write_metadata

log = logging.getLogger(__name__)

POLICY = ("Training pauses between steps while takes are being made or are waiting: takes go first. "
          "A run continues once the studio is idle.")
ZEROGPU_REFUSAL = ("Training needs a GPU held for minutes; a ZeroGPU Space lends one for seconds per call. "
                   "Train on a RunPod pod or a local GPU (python -m inference train, see docs/training.md), then "
                   "copy the voice's folder into this Space's trained-voices folder.")
REMOTE_REFUSAL = ("Training needs the model in this studio's own process; this studio sends takes to a remote "
                  "backend. Train where the model runs (python -m inference train, see docs/training.md).")


@dataclass
class RunState:
    """What the page shows of the run: its phase, the curve so far, and the last sentence."""

    phase: str = "idle"  # idle, training, paused, done, stopped, failed
    name: str = ""
    step: int = 0
    steps: int = 0
    seconds_left: float = 0.0
    losses: list[tuple[int, float]] = field(default_factory=list)
    evals: list[tuple[int, float]] = field(default_factory=list)
    message: str = ""


@dataclass
class VoiceTraining:
    engine: Any  # the local Engine (its processor and model); None with a remote backend
    trained: Path  # the trained-voices folder (Settings.trained_root)
    zerogpu: bool = False
    transcriber: Any = None
    speaker: Any = None  # SpeakerEncoder: leaves out clips in another voice
    checker: Any = None  # TakeChecker: scores held-out sentences at each eval (words, voice)
    min_total_s: float = 60.0
    state: RunState = field(default_factory=RunState)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def refusal(self) -> str | None:
        """Why this studio cannot train, or None."""
        if self.zerogpu:
            return ZEROGPU_REFUSAL
        if self.engine is None or not hasattr(self.engine, "model"):
            return REMOTE_REFUSAL
        return None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def prepare(self, sources: list[Path], name: str):
        """Recordings (or a dataset) -> the voice's dataset. Returns data.Prepared; raises a StudioError."""
        self._check_can_train()
        self._check_not_in_training(name)
        from inference.training.voice import prepare

        return prepare(sources, self.trained, name, transcriber=self.transcriber, speaker=self.speaker,
                       min_total_s=self.min_total_s)

    def save_transcripts(self, name: str, rows: list[tuple[str, str]]) -> None:
        """The table's (file_name, transcription) rows, as corrected by a person, into the dataset."""
        self._check_not_in_training(name)
        folder = self.trained / slug_of(name) / "dataset"
        if not (folder / "metadata.csv").is_file():
            raise InvalidRequest("Cut the recordings into clips first (step 1).")
        known = {file for file, _ in read_metadata(folder)}
        if not rows or any(file not in known for file, _ in rows):
            raise InvalidRequest("The table does not match the clips of this voice: cut the recordings again.")
        write_metadata(folder, rows)  # kept as typed so far, even with words still missing
        empty = [file for file, text in rows if not text.strip()]
        if empty:
            raise InvalidRequest(f"{len(empty)} clip(s) have no transcript (first: {empty[0]}); type their words "
                                 "in the table.")

    def start(self, name: str, speaker: str, agreed: bool, options, resume: bool = False) -> None:
        """Start a run in the background (refused while one runs). `options`: inference.training TrainOptions."""
        self._check_can_train()
        consent = check_consent(speaker, agreed)
        with self._lock:
            if self.running:
                raise InvalidRequest(f"A voice is being trained ({self.state.name}); one run at a time.")
            self._stop.clear()
            self.state = RunState("training", name, steps=options.steps)
            self._thread = threading.Thread(target=self._run, args=(name, speaker, consent, options, resume),
                                            name="train-voice", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the step under way; the checkpoint stays for a resume."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> RunState:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state

    def samples(self, name: str) -> tuple[str, Path, Path] | None:
        """(held-out sentence, the trained voice saying it, the base voice saying it) once a run has saved them."""
        from inference.training.voice import samples_folder

        folder = samples_folder(self.trained, name)
        if not (folder / "base.wav").is_file():
            return None
        return (folder / "sentence.txt").read_text(encoding="utf-8"), folder / "trained.wav", folder / "base.wav"

    def _check_can_train(self) -> None:
        if self.refusal:
            raise InvalidRequest(self.refusal)

    def _check_not_in_training(self, name: str) -> None:
        """The dataset of the voice under training is the run's: cutting it again would delete it under the run."""
        if self.running and slug_of(name) == slug_of(self.state.name):
            raise InvalidRequest(f"The voice {self.state.name!r} is being trained from its clips: stop the run, or "
                                 "wait for it to end, before you cut or correct them again.")

    def _takes_waiting(self) -> bool:
        busy = bool(self.engine.status().get("busy"))
        if busy and self.state.phase == "training":
            self.state.phase = "paused"
        elif not busy and self.state.phase == "paused":
            self.state.phase = "training"
        return busy

    def _progress(self, progress) -> None:
        state = self.state
        state.step, state.seconds_left = progress.step, progress.seconds_left
        state.losses.append((progress.step, progress.loss))
        if progress.eval:
            state.evals.append((progress.step, progress.eval["loss"]))

    def _run(self, name: str, speaker: str, consent: str, options, resume: bool) -> None:
        from inference.training.voice import VoiceRequest, train_voice

        started = time.monotonic()
        try:
            request = VoiceRequest(name, speaker, consent, self.engine.model_id, options)
            self.engine.load()
            outcome, folder = train_voice(self.engine.processor, self.engine.model, self.trained, request,
                                          stop=self._stop, progress=self._progress, pause=self._takes_waiting,
                                          resume=resume, checker=self.checker)
        except StudioError as err:
            self.state.phase, self.state.message = "failed", str(err)
            return
        except Exception as err:  # a bug or an out-of-memory must not end the studio: say it, log it
            log.exception("training %s failed", name)
            self.state.phase, self.state.message = "failed", f"Training failed: {type(err).__name__}: {err}"
            return
        if folder is None:
            self.state.phase = "stopped"
            self.state.message = (f"Stopped at step {outcome.step}. Tick Resume and press Train to go on from the "
                                  "last checkpoint.")
            return
        best = outcome.best or {}
        early = " (stopped early: the held-out score stopped improving)" if outcome.early else ""
        self.state.phase = "done"
        self.state.message = (f"Saved the voice {name!r} after {outcome.step} steps in "
                              f"{time.monotonic() - started:.0f} s{early}: best held-out loss "
                              f"{best.get('loss', 0):.3f} at step {best.get('step')}.")
