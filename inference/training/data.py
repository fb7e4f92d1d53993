"""Recordings or an existing dataset -> a Hugging Face audiofolder of clips of one speaker, with transcripts.

Input: long recordings of one speaker (files, or a folder of them), which are cut at pauses (slicing.py); or a
dataset that exists: an audiofolder (`metadata.csv` with `file_name,transcription`) or LJSpeech (`wavs/` and a
pipe-separated `metadata.csv`: id|text|normalized text).
Output: `<folder>/clips/NNNN.wav` (24 kHz mono) and `<folder>/metadata.csv` (`file_name,transcription`), which
`datasets.load_dataset("audiofolder", data_dir=folder)` reads and `push_to_hub` can publish.

What cannot be used is left out with a sentence that says why, never a crash: a file that will not decode, a
silent clip, a clip in another voice (speaker similarity to the first minute below a threshold); under
`min_total_s` of speech in all (60 s by default) refuses the whole set.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inference.audio.codec import decode_audio, encode_wav
from inference.audio.incoming import ClipLimits, read_clip
from inference.contract.errors import InvalidAudio, StudioError
from inference.contract.request import SAMPLE_RATE
from inference.training.slicing import VAD_RATE, Slicing, clip_spans, speech_spans

RECORDING = ClipLimits("The recording", max_seconds=30 * 60,
                       advice="Cut it into recordings of at most 30 minutes (and 50 MB).")
DATASET_CLIP = ClipLimits("The clip", max_seconds=30, advice="Clips for training are 3-15 s long.")
AUDIO_SUFFIXES = {".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".webm", ".aac"}
SPEAKER_THRESHOLD = 0.7  # WavLM x-vector cosine; the same speaker scores ~0.85-0.95, another voice ~0.3-0.6
REFERENCE_S = 60.0  # the first minute of clips is the voice every other clip is compared with
SILENT_RMS = 1e-3


class NotEnoughAudio(InvalidAudio):
    """Too little usable speech to train on."""


@dataclass
class Clip:
    wave: np.ndarray  # mono float32 at 24 kHz
    source: str  # where it came from, for messages ("talk.wav 12.4-20.1 s")
    text: str = ""


@dataclass
class Prepared:
    """What came out of the recordings: the folder, its rows, and a sentence for everything left out."""

    folder: Path
    rows: list[tuple[str, str, float]]  # (file_name, transcription, seconds)
    refused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        return sum(seconds for _, _, seconds in self.rows) / 60


def prepare_dataset(sources: list[Path], folder: Path, *, transcriber=None, speaker=None,
                    min_total_s: float = 60.0, slicing: Slicing | None = None,
                    progress: Callable[[str], None] = lambda _: None) -> Prepared:
    """Read, cut, check, transcribe and write. Raises NotEnoughAudio when too little speech is left."""
    slicing = slicing or Slicing()
    refused: list[str] = []
    notes: list[str] = []
    clips = []
    for source in _expand(sources, refused):
        progress(f"reading {source.name}")
        clips += _read_source(source, slicing, refused)
    clips = [clip for clip in clips if not _silent(clip, refused)]
    clips = _same_speaker(clips, speaker, refused, notes)
    total = sum(len(clip.wave) for clip in clips) / SAMPLE_RATE
    if total < min_total_s:
        raise NotEnoughAudio(" ".join([f"There are {total:.0f} s of usable speech; training needs at least "
                                       f"{min_total_s:.0f} s. Add recordings of the same voice."] + refused))
    _transcribe(clips, transcriber, notes, progress)
    return Prepared(folder, write_audiofolder(clips, folder), refused, notes)


def write_audiofolder(clips: list[Clip], folder: Path) -> list[tuple[str, str, float]]:
    (folder / "clips").mkdir(parents=True, exist_ok=True)
    rows = []
    for number, clip in enumerate(clips, 1):
        name = f"clips/{number:04d}.wav"
        (folder / name).write_bytes(encode_wav(clip.wave, SAMPLE_RATE))
        rows.append((name, clip.text, len(clip.wave) / SAMPLE_RATE))
    write_metadata(folder, [(name, text) for name, text, _ in rows])
    return rows


def write_metadata(folder: Path, rows: list[tuple[str, str]]) -> None:
    """metadata.csv of an audiofolder (also how the page saves the transcripts a person corrected)."""
    with open(folder / "metadata.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["file_name", "transcription"])
        writer.writerows([name, " ".join(text.split())] for name, text in rows)


def read_metadata(folder: Path) -> list[tuple[str, str]]:
    """(file_name, transcription) rows of an audiofolder's metadata.csv."""
    with open(folder / "metadata.csv", newline="", encoding="utf-8") as rows:
        return [(row["file_name"], row.get("transcription") or "") for row in csv.DictReader(rows)]


def _expand(sources: list[Path], refused: list[str]) -> list[Path]:
    """Files as given; a dataset folder as itself; any other folder as the audio files in it."""
    found = []
    for source in map(Path, sources):
        if source.is_dir() and not (source / "metadata.csv").is_file():
            found += sorted(p for p in source.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        elif source.exists():
            found.append(source)
        else:
            refused.append(f"{source.name}: there is no such file or folder.")
    return found


def _read_source(source: Path, slicing: Slicing, refused: list[str]) -> list[Clip]:
    try:
        if source.is_dir():
            return _read_dataset(source, refused)
        wave = read_clip(source, RECORDING)
        spans = clip_spans(speech_spans(decode_audio(encode_wav(wave, SAMPLE_RATE), VAD_RATE), slicing), slicing)
    except InvalidAudio as err:
        refused.append(f"{source.name}: {err}")
        return []
    if not spans:
        refused.append(f"{source.name}: no stretch of speech of {slicing.min_s:g}-{slicing.max_s:g} s was found "
                       "in it (is it silent, or one long run without pauses?).")
    return [Clip(wave[int(a * SAMPLE_RATE):int(b * SAMPLE_RATE)], f"{source.name} {a:.1f}-{b:.1f} s")
            for a, b in spans]


def _read_dataset(folder: Path, refused: list[str]) -> list[Clip]:
    """An audiofolder or an LJSpeech folder: its clips with their transcripts."""
    lines = (folder / "metadata.csv").read_text(encoding="utf-8").splitlines()
    if (folder / "wavs").is_dir() and lines and "|" in lines[0]:
        rows = [(f"wavs/{parts[0]}.wav", parts[-1]) for parts in (line.split("|") for line in lines if line.strip())]
    else:
        rows = read_metadata(folder)
    clips = []
    for name, text in rows:
        path = (folder / name).resolve()
        if not path.is_relative_to(folder.resolve()):
            refused.append(f"{name}: the file is outside the dataset folder.")
            continue
        try:
            clips.append(Clip(read_clip(path, DATASET_CLIP), name, text))
        except InvalidAudio as err:
            refused.append(f"{name}: {err}")
    return clips


def _silent(clip: Clip, refused: list[str]) -> bool:
    if clip.wave.size == 0 or float(np.sqrt(np.mean(np.square(clip.wave)))) < SILENT_RMS:
        refused.append(f"{clip.source}: the clip is silent.")
        return True
    return False


def _same_speaker(clips: list[Clip], speaker, refused: list[str], notes: list[str]) -> list[Clip]:
    """Leave out clips whose voice is far from the first minute's (when a speaker model is there)."""
    if not clips or speaker is None or not speaker.enabled:
        notes.append("The clips were not checked for a second speaker (no speaker model on this server).")
        return clips
    try:
        vectors = [speaker.embed(decode_audio(encode_wav(clip.wave, SAMPLE_RATE), VAD_RATE)) for clip in clips]
    except StudioError as err:
        notes.append(f"The clips were not checked for a second speaker: {err}")
        return clips
    first, seconds = [], 0.0
    for vector, clip in zip(vectors, clips, strict=True):
        if seconds < REFERENCE_S:
            first.append(vector)
            seconds += len(clip.wave) / SAMPLE_RATE
    voice = np.mean(first, axis=0)
    voice /= max(float(np.linalg.norm(voice)), 1e-12)
    kept = []
    for vector, clip in zip(vectors, clips, strict=True):
        similarity = float(np.dot(vector, voice))
        if similarity < SPEAKER_THRESHOLD:
            refused.append(f"{clip.source}: the voice differs from the first minute's (similarity {similarity:.2f}, "
                           f"below {SPEAKER_THRESHOLD}); it may be another speaker.")
        else:
            kept.append(clip)
    return kept


def _transcribe(clips: list[Clip], transcriber, notes: list[str], progress: Callable[[str], None]) -> None:
    if transcriber is None or not transcriber.enabled:
        if any(not clip.text for clip in clips):
            notes.append("Transcription is off: type each clip's words into metadata.csv before training.")
        return
    for number, clip in enumerate(clips, 1):
        if clip.text:
            continue
        progress(f"transcribing clip {number} of {len(clips)}")
        try:
            clip.text = transcriber.transcribe(encode_wav(clip.wave, SAMPLE_RATE))
        except StudioError as err:
            notes.append(f"{clip.source}: not transcribed ({err}); type its words.")
            if not transcriber.loaded:
                return  # the model did not load: the same sentence for every clip helps nobody
