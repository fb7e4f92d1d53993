"""A trained voice's folder under the trained-voices folder: `<slug>/adapter_config.json`,
`<slug>/adapter_model.safetensors` and `<slug>/card.json` (who, consent, data, scores, base model), which the
serving side lists as a voice. The run's own files (dataset/, run/) stay beside them in the same folder."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from inference.contract.errors import InvalidRequest
from inference.model.cards import CARD, CONFIG, WEIGHTS

CARD_SCHEMA = 1
MAX_NAME = 60


def slug_of(name: str) -> str:
    """A voice's name -> its folder name: lower-case letters, digits and dashes ("Ada's voice" -> "ada-s-voice")."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()[:MAX_NAME]).strip("-")
    if not slug:
        raise InvalidRequest("Give the voice a name with at least one letter or digit, e.g. --name ada.")
    return slug


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_card(*, name: str, speaker: str, consent: str, consent_at: str, minutes: float, clips: int, steps: int,
              rank: int, scores: dict | None, base_model: str) -> dict:
    return {"schema": CARD_SCHEMA, "name": name, "speaker": speaker,
            "consent": {"statement": consent, "at": consent_at}, "minutes": round(minutes, 2), "clips": clips,
            "steps": steps, "rank": rank, "eval": scores or {}, "base_model": base_model, "created": now()}


def publish(best: Path, voice_folder: Path, card: dict) -> Path:
    """Copy the best adapter into the voice's folder and write its card last (a voice is listed once its card is
    there)."""
    voice_folder.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG, WEIGHTS):
        shutil.copyfile(best / name, voice_folder / name)
    staging = voice_folder / f"{CARD}.new"
    staging.write_text(json.dumps(card, indent=2, ensure_ascii=False), encoding="utf-8")
    staging.replace(voice_folder / CARD)
    return voice_folder


def consent_statement(speaker: str) -> str:
    """What a person confirms before a voice is trained (firmer than cloning: the voice is kept)."""
    return (f"I am {speaker}, or {speaker} has given me permission, to train a model of this voice from these "
            "recordings and to keep it in this studio, where it can speak any text.")


def check_consent(speaker: str, agreed: bool) -> str:
    """The consent statement, or InvalidRequest when no speaker was named or the statement was not confirmed."""
    if not speaker.strip():
        raise InvalidRequest("Name the speaker whose voice is trained: training keeps a voice, so the card says whose.")
    if not agreed:
        raise InvalidRequest("Training keeps a voice: confirm that you may (in the CLI, --consent) — "
                             f"\"{consent_statement(speaker.strip())}\"")
    return consent_statement(speaker.strip())
