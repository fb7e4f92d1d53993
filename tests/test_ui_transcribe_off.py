"""With transcription off on the server (HVS_ASR_MODEL=none), the page hides Transcribe and says why in the
transcript box. Before, the button showed and only failed when pressed."""

from __future__ import annotations

import gradio as gr

from inference.scoring.transcribe import Transcriber
from studio.service import Studio
from ui.layout import build_ui


def _transcribe_parts(asr_model: str, engine) -> tuple[gr.Button, gr.Textbox]:
    demo = build_ui(Studio(engine, transcriber=Transcriber(asr_model)))
    blocks = demo.blocks.values()
    button = next(b for b in blocks if isinstance(b, gr.Button) and b.value == "Transcribe")
    box = next(b for b in blocks if isinstance(b, gr.Textbox) and b.elem_id == "hvs-clip-text")
    return button, box


def test_transcribe_is_hidden_and_explained_when_transcription_is_off(engine):
    button, box = _transcribe_parts("none", engine)
    assert button.visible is False and "Transcription is turned off on this server" in box.placeholder
    button, box = _transcribe_parts("openai/whisper-base", engine)
    assert button.visible is True and "transcribed automatically" in box.placeholder
