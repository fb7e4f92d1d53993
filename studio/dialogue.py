"""A dialogue take, apart from any door: the finished take saved with each turn as a file of its own and its
subtitles; progress words while it is made. (Its request is a TakeRequest with speakers: studio/take_request.py.)

Studio.dialogue and Studio.dialogue_file (studio/service.py) run it, with admission and cancellation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.audio import subtitles
from inference.contract.result import SynthesisResult
from studio.takes import TakeStore


@dataclass
class DialogueTake:
    path: Path
    result: SynthesisResult
    turns: list[tuple[str, str]] = field(default_factory=list)  # (label, wav path) per segment
    subtitle_files: list[str] = field(default_factory=list)  # .vtt and .srt


class TurnProgress:
    """Where a dialogue is: "Turn 2 of 4 · 3.2 s of audio" (the seconds count within the turn)."""

    def __init__(self) -> None:
        self.turn, self.turns, self.seconds = 1, 1, 0.0

    def add(self, part: int, parts: int, seconds: float) -> str:
        if part != self.turn:
            self.seconds = 0.0
        self.turn, self.turns = part, parts
        self.seconds += seconds
        return str(self)

    def __str__(self) -> str:
        return f"Turn {self.turn} of {self.turns} · {self.seconds:.1f} s of audio"


def save_dialogue(takes: TakeStore, result: SynthesisResult, stem: str) -> DialogueTake:
    """The whole take, each turn on its own and the subtitles (WebVTT, SRT), as files."""
    path = takes.save(result.waveform, result.sample_rate, stem=stem)
    rate, turns = result.sample_rate, []
    for number, segment in enumerate(result.segments, start=1):
        piece = result.waveform[int(round(segment.start_s * rate)):int(round(segment.end_s * rate))]
        who = f"{segment.speaker}: " if segment.speaker else ""
        words = " ".join(segment.text.split())
        label = f"{number} · {who}{words if len(words) <= 50 else words[:49] + '…'}"
        turns.append((label, str(takes.save(np.asarray(piece), rate, stem="turn"))))
    files = [str(takes.save_text(subtitles.render(result.segments, fmt), fmt, stem=path.stem))
             for fmt in subtitles.FORMATS]
    return DialogueTake(path, result, turns, files)
