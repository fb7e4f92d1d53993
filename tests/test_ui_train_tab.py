"""The Train a voice tab's callbacks, as the page calls them: cut a recording into clips, correct the words in the
table, train with a live curve until the voice is saved; on ZeroGPU the tab only says why it cannot train."""

from __future__ import annotations

import json
import time
from pathlib import Path

import gradio as gr

from inference.audio.codec import decode_audio
from studio.service import Studio
from studio.training import VoiceTraining
from tests.test_training_data import recording
from ui.layout import build_ui


def _page(engine, training):
    demo = build_ui(Studio(engine), training=training)
    callbacks = {f.fn.__name__: f.fn for f in demo.fns.values() if f.fn is not None}
    return demo, callbacks


def test_cut_correct_train_and_watch_until_the_voice_is_saved(engine, tmp_path):
    training = VoiceTraining(engine, tmp_path / "trained", min_total_s=5)
    _, page = _page(engine, training)
    rows, notes = page["cut_clips"]([str(recording(tmp_path))], None, "Ada")
    assert len(rows) == 2 and notes.startswith("2 clips") and "Transcription is off" in notes
    status, _ = page["start"]("Ada", rows, "Ada", True, 6, False)  # the words are still empty
    assert "have no transcript" in status
    rows = [[file, seconds, f"Words of clip {i}."] for i, (file, seconds, _) in enumerate(rows)]
    status, timer = page["start"]("Ada", rows, "Ada", True, 6, False)
    assert status == "Training…" and timer.active
    deadline = time.monotonic() + 120
    while (watched := page["watch"]())[2].active:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    status, curve, _, sentence, trained_take, base_take = watched
    assert sentence.startswith("**Held-out sentence:** Words of clip") and trained_take.endswith("trained.wav")
    assert decode_audio(Path(trained_take)).size > 0 and decode_audio(Path(base_take)).size > 0
    assert "Saved the voice 'Ada' after 6 steps" in status
    assert set(curve["curve"]) == {"train", "held-out"} and len(curve) == 7  # 6 steps, the eval at the last
    card = json.loads((tmp_path / "trained" / "ada" / "card.json").read_text())
    assert card["clips"] == 2 and card["consent"]["statement"].startswith("I am Ada")


def test_on_zerogpu_the_tab_says_why_and_offers_no_training(engine, tmp_path):
    demo, page = _page(engine, VoiceTraining(engine, tmp_path, zerogpu=True))
    texts = [b.value for b in demo.blocks.values() if isinstance(b, gr.Markdown) and b.elem_id == "hvs-train-refused"]
    assert texts and "ZeroGPU" in texts[0] and "python -m inference train" in texts[0]
    assert "cut_clips" not in page
