"""How a take ends, as the service hands it to a door: finished (saved, in the visitor's history), or stopped
by the visitor with the part made so far kept."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.contract.errors import StudioError
from inference.contract.result import SynthesisResult
from studio.best_of import Takes


@dataclass
class Finished:
    """One finished take as the page shows it."""

    path: Path
    result: SynthesisResult
    history: list[dict]
    takes: Takes | None = None  # scores of the take (or of every candidate) when it was checked


@dataclass
class PartTake:
    """What a stopped take had made: saved and added to the visitor's history like a take."""

    path: Path
    seconds: float
    history: list[dict]


class Stopped(StudioError):
    """The visitor stopped the take or dialogue. `part`: the audio made before Stop, kept (None when there was none)."""

    def __init__(self, message: str, part: PartTake | None = None) -> None:
        super().__init__(message)
        self.part = part
