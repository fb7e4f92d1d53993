"""The training loop: LoRA on a private copy of the model (lora.py), one clip a step, held-out clips scored every
`eval_every` steps (teacher-forced loss and accuracy; with a take checker, the held-out sentences are also spoken
and scored: words heard, voice similarity to their clips); the best adapter by those scores is kept (not the
last; by held-out loss when the take check is off), training stops early after
`patience` evals without a better score, a checkpoint is written at each eval (resume after a crash), the stop
flag and the pause check are read between steps, and metrics go to TensorBoard event files (tensorboardX) in
the run's own folder.

A hand loop rather than transformers' Trainer: a step here is a forward and a backward on one example; what
the Trainer would add (its own checkpoint layout, callbacks to stop, pause and report) is more code than it saves.
"""

from __future__ import annotations

import random
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from inference.audio.codec import decode_audio, encode_wav
from inference.contract.errors import InvalidRequest
from inference.contract.request import SAMPLE_RATE
from inference.prompting.inputs import encode
from inference.training.data import read_metadata
from inference.training.evaluation import teacher_forced
from inference.training.examples import build_example
from inference.training.listen import speak
from inference.training.lora import attach_lora, load_adapter_weights, save_adapter, trainable_copy
from inference.training.options import TrainOptions


@dataclass
class Progress:
    step: int
    steps: int
    loss: float  # this step's training loss per codebook
    seconds_left: float
    eval: dict | None = None  # held-out scores when this step was an eval step


@dataclass
class Outcome:
    step: int
    best: dict | None  # {"step", "loss", "accuracy"} of the kept adapter
    best_folder: Path
    stopped: bool = False  # by the stop flag
    early: bool = False  # by early stopping
    history: list[dict] = field(default_factory=list)


class Trainer:
    """`Trainer(processor, model, dataset_folder, work_folder, options, base_model).run(stop, progress, pause)`."""

    def __init__(self, processor, model, dataset: Path, work: Path, options: TrainOptions, base_model: str,
                 checker=None) -> None:
        self.processor, self.options, self.work, self.checker = processor, options, Path(work), checker
        self.codebooks = model.config.num_codebooks
        self.audio_ids = (processor.audio_token_id, processor.audio_delay_token_id)
        self.train_set, self.held_out = self._examples(Path(dataset))
        torch.manual_seed(options.seed)
        self.model = attach_lora(trainable_copy(model), options.rank, options.alpha, options.targets, base_model)
        on_gpu = next(model.parameters()).device.type == "cuda"
        if options.checkpointing if options.checkpointing is not None else on_gpu:
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        self.optimizer = torch.optim.AdamW([p for p in self.model.parameters() if p.requires_grad], lr=options.lr)
        self.step, self.best, self.bad_evals, self.history = 0, None, 0, []

    @property
    def seconds(self) -> float:
        """Audio in the dataset, from its frames (25 a second; a clip has K + 1 rows besides its frames)."""
        rows = sum(ex["audio_input_ids"].shape[1] - self.codebooks - 1 for ex in self.train_set + self.held_out)
        return rows / 25

    @property
    def best_folder(self) -> Path:
        return self.work / "best"

    def _examples(self, folder: Path) -> tuple[list[dict], list[dict]]:
        rows = read_metadata(folder)
        untranscribed = [name for name, text in rows if not text.strip()]
        if untranscribed:
            raise InvalidRequest(f"{len(untranscribed)} clip(s) have no transcript (first: {untranscribed[0]}); "
                                 "type their words in metadata.csv (or the page's table) before training.")
        if len(rows) < 2:
            raise InvalidRequest(f"There are {len(rows)} clips; training needs at least 2 (one is held out to "
                                 "score the training).")
        held_out = min(self.options.held_out, max(1, len(rows) // 5))  # at most a fifth of the clips
        examples = [build_example(self.processor, text, encode(self.processor, decode_audio(folder / name),
                                                               SAMPLE_RATE)) for name, text in rows]
        order = random.Random(self.options.seed).sample(range(len(rows)), len(rows))
        held = set(order[:held_out])
        # the held-out sentences (text, clip, frames) the take check speaks and compares with their clips
        self.sentences = [(rows[i][1], folder / rows[i][0], examples[i]["audio_input_ids"].shape[1])
                          for i in sorted(held)]
        return ([ex for i, ex in enumerate(examples) if i not in held], [ex for i, ex in enumerate(examples) if i in held])

    def score(self, examples: list[dict]) -> dict[str, float]:
        """Teacher-forced loss and accuracy of the model as it is now."""
        return teacher_forced(self.model, examples, self.audio_ids, self.codebooks)

    def run(self, stop: threading.Event | None = None, progress: Callable[[Progress], None] | None = None,
            pause: Callable[[], bool] | None = None, resume: bool = False) -> Outcome:
        """Train to `options.steps` (or an early stop, or `stop`). With `resume`, go on from the checkpoint."""
        from tensorboardX import SummaryWriter

        stop = stop or threading.Event()
        if resume and (self.work / "checkpoint").is_dir():
            self._load_checkpoint()
        writer = SummaryWriter(str(self.work / "logs"), purge_step=self.step or None)
        outcome = Outcome(self.step, self.best, self.best_folder, history=self.history)
        step_s, device = None, next(self.model.parameters()).device
        self.model.train()
        try:
            while self.step < self.options.steps:
                while pause is not None and pause() and not stop.is_set():
                    time.sleep(0.05)  # takes are waiting for the GPU: they go first
                if stop.is_set():
                    outcome.stopped = True
                    break
                started = time.perf_counter()
                loss = self._train_step(device)
                self.step += 1
                writer.add_scalar("train/loss", loss, self.step)
                scores = self._evaluate(writer) if self._eval_due() else None
                took = time.perf_counter() - started
                step_s = took if step_s is None else 0.9 * step_s + 0.1 * took
                if progress:
                    progress(Progress(self.step, self.options.steps, loss, step_s * (self.options.steps - self.step),
                                      scores))
                if self.bad_evals >= self.options.patience:
                    outcome.early = True
                    break
            self._save_checkpoint()
        finally:
            writer.close()
        outcome.step, outcome.best = self.step, self.best
        return outcome

    def _train_step(self, device) -> float:
        example = self._example_for(self.step)
        out = self.model(**{name: value.to(device) for name, value in example.items()}, use_cache=False)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
        self.optimizer.step()
        return float(out.loss.detach()) / self.codebooks

    def _example_for(self, step: int) -> dict:
        """Each pass over the clips in its own seeded order, so a resumed run sees what it would have seen."""
        count = len(self.train_set)
        order = random.Random(self.options.seed * 100_003 + step // count).sample(range(count), count)
        return self.train_set[order[step % count]]

    def _eval_due(self) -> bool:
        return self.step % self.options.eval_every == 0 or self.step == self.options.steps

    def _evaluate(self, writer) -> dict:
        scores = {"step": self.step, **self.score(self.held_out), **self._take_check()}
        for name in ("loss", "accuracy", "words_right", "voice_similarity"):
            if scores.get(name) is not None:
                writer.add_scalar(f"eval/{name}", scores[name], self.step)
        self.history.append(scores)
        if self.best is None or merit(scores) > merit(self.best):
            self.best, self.bad_evals = scores, 0
            save_adapter(self.model, self.best_folder)
        else:
            self.bad_evals += 1
        self._save_checkpoint()
        return scores

    def _take_check(self) -> dict:
        """The held-out sentences spoken by the model as it is now, scored by the take check (words heard, voice
        similarity to the held-out clip): {} when the take check is off."""
        if self.checker is None or not self.checker.enabled:
            return {}
        found: dict[str, list[float]] = {"words_right": [], "voice_similarity": []}
        for text, clip, frames in self.sentences:
            wave = speak(self.model, self.processor, text, max_frames=int(frames * 1.5) + 25)
            score = self.checker.check(text, wave, SAMPLE_RATE, seed=0, reference=clip)
            for name, values in found.items():
                if getattr(score, name) is not None:
                    values.append(getattr(score, name))
        return {name: sum(values) / len(values) for name, values in found.items() if values}

    def write_samples(self, folder: Path) -> list[Path]:
        """The first held-out sentence in the trained voice (the best adapter) and in the base voice."""
        load_adapter_weights(self.model, self.best_folder)
        text, _, frames = self.sentences[0]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sentence.txt").write_text(text, encoding="utf-8")
        paths = []
        for name, base in (("trained", False), ("base", True)):
            wave = speak(self.model, self.processor, text, max_frames=int(frames * 1.5) + 25, base=base)
            paths.append(folder / f"{name}.wav")
            paths[-1].write_bytes(encode_wav(wave, SAMPLE_RATE))
        return paths

    def _save_checkpoint(self) -> None:
        """The adapter, the optimizer and the counters, written beside and then swapped in (a crash mid-write
        leaves the previous checkpoint whole)."""
        staging, final = self.work / "checkpoint.new", self.work / "checkpoint"
        shutil.rmtree(staging, ignore_errors=True)
        save_adapter(self.model, staging)
        torch.save({"step": self.step, "optimizer": self.optimizer.state_dict(), "best": self.best,
                    "bad_evals": self.bad_evals, "history": self.history}, staging / "state.pt")
        shutil.rmtree(final, ignore_errors=True)
        staging.rename(final)

    def _load_checkpoint(self) -> None:
        folder = self.work / "checkpoint"
        load_adapter_weights(self.model, folder)
        state = torch.load(folder / "state.pt", map_location=next(self.model.parameters()).device, weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.best, self.bad_evals, self.history = (state["step"], state["best"], state["bad_evals"],
                                                              state["history"])


def merit(scores: dict) -> float:
    """Higher is better: words right plus voice similarity when the take check scored the held-out sentences
    (each 0 to 1), else the held-out loss, negated."""
    checked = [scores[name] for name in ("words_right", "voice_similarity") if scores.get(name) is not None]
    return sum(checked) if checked else -scores["loss"]
