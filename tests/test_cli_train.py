"""`python -m inference train`: recordings -> a dataset to correct -> a trained voice with its card, in a process
of its own, as a person runs it (tiny-random, CPU)."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.test_training_data import recording


def _train(*args, trained):
    env = {**os.environ, "HVS_TRAINED_DIR": str(trained)}
    return subprocess.run([sys.executable, "-m", "inference", "train", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_prepare_correct_then_train_writes_the_adapter_and_its_card(tmp_path):
    trained = tmp_path / "trained"
    common = ["--name", "Ada", "--consent", "--model", "tiny-random", "--asr-model", "none", "--speaker-model", "none"]
    run = _train("--data", str(recording(tmp_path)), *common, "--min-seconds", "5", "--prepare-only", trained=trained)
    assert run.returncode == 0, run.stderr
    dataset = trained / "ada" / "dataset"
    assert "dataset: 2 clips" in run.stderr and "Transcription is off" in run.stderr
    run = _train("--data", str(dataset), *common, "--steps", "4", "--eval-every", "2", "--held-out", "1", trained=trained)
    assert run.returncode == 2 and "have no transcript" in run.stderr  # a sentence, not a traceback
    (dataset / "metadata.csv").write_text("file_name,transcription\nclips/0001.wav,Hello there, this is my voice.\n"
                                          "clips/0002.wav,The third sentence closes the test.\n")
    run = _train("--data", str(dataset), *common, "--steps", "4", "--eval-every", "2", "--held-out", "1",
                 "--rank", "4", trained=trained)
    assert run.returncode == 0, run.stderr
    assert "trained voice 'Ada'" in run.stderr and "4/4" in run.stderr  # the progress bar reached the end
    card = json.loads((trained / "ada" / "card.json").read_text())
    assert (card["name"], card["speaker"], card["steps"], card["rank"], card["clips"]) == ("Ada", "Ada", 4, 4, 2)
    assert card["consent"]["statement"].startswith("I am Ada") and card["base_model"] == "tiny-random"
    assert card["eval"]["step"] in (2, 4) and (trained / "ada" / "adapter_model.safetensors").is_file()


def test_training_without_consent_is_refused(tmp_path):
    run = _train("--data", str(tmp_path), "--name", "Ada", trained=tmp_path)
    assert run.returncode == 2 and "Training keeps a voice: confirm" in run.stderr
