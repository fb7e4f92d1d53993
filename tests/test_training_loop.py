"""LoRA training on tiny-random, CPU: it learns, it keeps the best adapter, it stops and resumes, and the serving
model it trained beside is left as it was."""

import json
import threading

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from inference.audio.codec import decode_audio, encode_wav
from inference.contract.errors import InvalidRequest
from inference.scoring.take_check import TakeScore
from inference.training.data import write_metadata
from inference.training.listen import speak
from inference.training.lora import load_adapter_weights
from inference.training.options import TrainOptions
from inference.training.trainer import Trainer

OPTIONS = TrainOptions(steps=30, lr=3e-3, rank=8, alpha=16, eval_every=10, held_out=1)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, speech_wav):
    """Four one-second clips of espeak-ng speech with transcripts: three to train on, one held out."""
    folder = tmp_path_factory.mktemp("dataset")
    (folder / "clips").mkdir()
    wave = decode_audio(speech_wav)
    rows = []
    for number in range(4):
        (folder / f"clips/{number}.wav").write_bytes(encode_wav(wave[number * 12_000:number * 12_000 + 24_000]))
        rows.append((f"clips/{number}.wav", f"Clip number {number} of my voice."))
    write_metadata(folder, rows)
    return folder


def _trainer(engine, dataset, work, options=OPTIONS, checker=None):
    return Trainer(engine.processor, engine.model, dataset, work, options, "tiny-random", checker=checker)


def test_thirty_steps_lower_the_loss_and_raise_accuracy_on_a_training_clip(engine, dataset, tmp_path):
    served = {name: value.clone() for name, value in engine.model.state_dict().items()}
    trainer = _trainer(engine, dataset, tmp_path)
    before = trainer.score(trainer.train_set[:1])
    losses = []
    outcome = trainer.run(progress=lambda p: losses.append(p.loss))
    after = trainer.score(trainer.train_set[:1])
    assert len(losses) == 30 and outcome.step == 30
    assert sum(losses[-3:]) / 3 < 0.5 * losses[0]  # the training loss at least halves (it falls ~67% here)
    assert after["accuracy"] > before["accuracy"] + 0.2  # teacher-forced: 0.0 -> ~0.4 here
    assert [h["step"] for h in outcome.history] == [10, 20, 30]
    assert outcome.best["loss"] == min(h["loss"] for h in outcome.history)  # the best kept, not the last
    # the serving model was not touched: same modules, same weights
    assert type(engine.model.model.layers[0].self_attn.q_proj) is torch.nn.Linear
    assert all(torch.equal(value, served[name]) for name, value in engine.model.state_dict().items())
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))  # metrics for TensorBoard
    # the same seed, with the adapter and without it: another take
    text = "Clip number 0 of my voice."
    trained = speak(trainer.model, engine.processor, text, max_frames=30, seed=7)
    base = speak(trainer.model, engine.processor, text, max_frames=30, seed=7, base=True)
    assert np.array_equal(base, speak(trainer.model, engine.processor, text, max_frames=30, seed=7, base=True))
    assert not np.array_equal(trained, base)


def test_the_saved_adapter_is_peft_format_and_reloads_to_the_same_scores(engine, dataset, tmp_path):
    trainer = _trainer(engine, dataset, tmp_path, TrainOptions(**{**OPTIONS.__dict__, "steps": 10}))
    trainer.run()
    config = json.loads((trainer.best_folder / "adapter_config.json").read_text())
    assert (config["peft_type"], config["r"], config["lora_alpha"]) == ("LORA", 8, 16)
    assert sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    assert config["base_model_name_or_path"] == "tiny-random"
    weights = load_file(trainer.best_folder / "adapter_model.safetensors")
    a = weights["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"]
    b = weights["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"]
    assert a.shape == (8, 64) and b.shape == (64, 8) and len(weights) == 2 * 4 * 2  # 2 layers x 4 linears x A, B
    fresh = _trainer(engine, dataset, tmp_path / "again")
    assert fresh.score(fresh.held_out) != trainer.score(trainer.held_out)
    load_adapter_weights(fresh.model, trainer.best_folder)
    assert fresh.score(fresh.held_out) == trainer.score(trainer.held_out)


def test_stop_then_resume_reaches_the_same_step_count(engine, dataset, tmp_path):
    stop = threading.Event()
    first = _trainer(engine, dataset, tmp_path).run(stop=stop, progress=lambda p: p.step == 12 and stop.set())
    assert first.stopped and first.step == 12
    resumed = _trainer(engine, dataset, tmp_path).run(resume=True)
    assert resumed.step == 30 and not resumed.stopped
    assert [h["step"] for h in resumed.history] == [10, 20, 30]  # the eval before the stop is kept


def test_resuming_with_another_rank_is_refused_with_a_sentence(engine, dataset, tmp_path):
    stop = threading.Event()
    _trainer(engine, dataset, tmp_path).run(stop=stop, progress=lambda p: stop.set())
    with pytest.raises(InvalidRequest, match="trained with other settings"):
        _trainer(engine, dataset, tmp_path, TrainOptions(**{**OPTIONS.__dict__, "rank": 4})).run(resume=True)


class _Checker:
    """Take-check scores that fall as training goes on (loss still falling): the real Whisper and WavLM cannot be
    downloaded in tests, the rule that keeps the best adapter by these scores can be checked."""

    enabled = True

    def __init__(self):
        self.calls = 0

    def check(self, text, wave, sample_rate, seed, reference):
        self.calls += 1
        assert wave.size > 0 and reference.is_file() and text.startswith("Clip number")
        return TakeScore(seed, words_right=1.0 / self.calls, voice_similarity=0.5)


def test_with_a_take_check_the_best_adapter_is_the_best_scored_not_the_lowest_loss(engine, dataset, tmp_path):
    outcome = _trainer(engine, dataset, tmp_path, checker=_Checker()).run()
    assert [h["words_right"] for h in outcome.history] == pytest.approx([1.0, 1 / 2, 1 / 3])
    assert outcome.best["step"] == 10 and outcome.history[-1]["loss"] < outcome.best["loss"]
