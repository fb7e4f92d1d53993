"""The tiny test checkpoint: a build killed midway leaves nothing behind for long."""

from __future__ import annotations

import os
import subprocess
import sys

from inference.model import tiny_model


def test_a_build_killed_midway_is_cleaned_at_the_next_start(monkeypatch, tmp_path):
    monkeypatch.setattr(tiny_model, "cache_dir", lambda: tmp_path / "tiny-random-v2")
    (tmp_path / "tiny-random-v2").mkdir()
    (tmp_path / "tiny-random-v2" / "config.json").write_text("{}")  # built already: no new build here
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".building-{finished.stdout.strip()}-k1lled"  # its process is gone
    running = tmp_path / f".building-{os.getpid()}-busy"  # a build still under way in a live process
    old_style = tmp_path / ".building-legacy"  # no process to ask: kept while recent
    for folder in (dead, running, old_style):
        (folder / "audio_tokenizer").mkdir(parents=True)
    tiny_model.ensure_tiny_checkpoint()
    assert not dead.exists()
    assert running.exists() and old_style.exists()
    os.utime(old_style, (0, 0))  # an hour and more: gone too
    tiny_model.ensure_tiny_checkpoint()
    assert not old_style.exists() and running.exists()
