"""Scoring a take: did it say the words, and in the right voice?

- words: the take is transcribed with the studio's Whisper (inference/transcribe.py) and compared with the
  requested text by jiwer (word error rate after ASR-style normalization: lower case, contractions
  expanded, punctuation dropped); the words missed and added come from jiwer's alignment.
- voice: cosine similarity of speaker embeddings (transformers' WavLMForXVector, by default
  microsoft/wavlm-base-plus-sv) of the reference clip and the take. Loaded on first use, like Whisper.

Either part can be off (`--asr-model none`, `--speaker-model none`); the other still scores.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from inference.audio.codec import decode_audio, encode_wav
from inference.audio.incoming import read_clip
from inference.audio.reference import REFERENCE_CLIP
from inference.contract.errors import StudioError
from inference.model.lazy_model import LazyModel
from inference.scoring.transcribe import ASR_SAMPLE_RATE

DEFAULT_SPEAKER_MODEL = "microsoft/wavlm-base-plus-sv"
_TAG = re.compile(r"\[[^\[\]]{0,40}\]")  # [laugh], [music start], [SPEAKER0]: not words to be spoken


@dataclass
class TakeScore:
    """How one take scored. A part that was not checked is None, and `notes` says why."""

    seed: int
    words_right: float | None = None  # 1 - word error rate, at least 0
    word_error_rate: float | None = None
    missed: list[str] = field(default_factory=list)  # requested words not heard (or heard as something else)
    added: list[str] = field(default_factory=list)  # words heard that were not requested
    heard: str | None = None  # the transcript of the take
    voice_similarity: float | None = None  # cosine of speaker embeddings, reference vs take
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """e.g. "words 96% right, voice similarity 0.81"."""
        parts = []
        if self.words_right is not None:
            parts.append(f"words {self.words_right:.0%} right")
        if self.voice_similarity is not None:
            parts.append(f"voice similarity {self.voice_similarity:.2f}")
        return ", ".join(parts) or "not scored"

    def rank(self) -> tuple[float, float]:
        """Smaller is better: fewest word errors first, then the highest voice similarity."""
        errors = self.word_error_rate if self.word_error_rate is not None else 0.0
        return errors, -(self.voice_similarity if self.voice_similarity is not None else 0.0)

    def as_dict(self) -> dict:
        out = asdict(self)
        for name in ("words_right", "word_error_rate", "voice_similarity"):
            out[name] = None if out[name] is None else round(out[name], 3)
        return out


def word_errors(requested: str, heard: str) -> tuple[float, list[str], list[str]]:
    """(word error rate, missed words, added words) between the requested text and a transcript."""
    import jiwer

    normalize = jiwer.Compose([
        jiwer.ToLowerCase(), jiwer.ExpandCommonEnglishContractions(), jiwer.RemovePunctuation(),
        jiwer.RemoveMultipleSpaces(), jiwer.Strip(), jiwer.ReduceToListOfListOfWords(),
    ])
    out = jiwer.process_words(requested, heard, reference_transform=normalize, hypothesis_transform=normalize)
    ref, hyp = out.references[0], out.hypotheses[0]
    missed, added = [], []
    for chunk in out.alignments[0]:
        if chunk.type in ("delete", "substitute"):
            missed += ref[chunk.ref_start_idx:chunk.ref_end_idx]
        if chunk.type in ("insert", "substitute"):
            added += hyp[chunk.hyp_start_idx:chunk.hyp_end_idx]
    return float(out.wer), missed, added


def spoken_words(text: str) -> str:
    """The requested text without sound-effect and speaker tags."""
    return " ".join(_TAG.sub(" ", text).split())


class SpeakerEncoder(LazyModel):
    """`SpeakerEncoder(model_id).embed(wave_16k) -> unit vector`. Thread-safe; loads once, on first use."""

    default = DEFAULT_SPEAKER_MODEL
    off_message = "Voice similarity is turned off on this server (no --speaker-model)."

    def _build(self):
        from transformers import AutoFeatureExtractor, WavLMForXVector

        extractor = AutoFeatureExtractor.from_pretrained(self.model_id)
        return extractor, WavLMForXVector.from_pretrained(self.model_id).to(self.device).eval()

    def _describe_failure(self, err: Exception) -> str:
        return self._unavailable_message(type(err).__name__)

    def _unavailable_message(self, why: str) -> str:
        return (f"The speaker model {self.model_id!r} could not be loaded ({why}); voice similarity "
                "is not scored. Start with another --speaker-model, or 'none'.")

    def embed(self, wave: np.ndarray) -> np.ndarray:
        import torch

        extractor, model = self.load()
        inputs = extractor(wave, sampling_rate=ASR_SAMPLE_RATE, return_tensors="pt")
        with torch.inference_mode():
            vector = model(**{k: v.to(self.device) for k, v in inputs.items()}).embeddings[0]
        vector = vector.float().cpu().numpy()
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


class TakeChecker:
    """Scores takes with the transcriber (words) and the speaker encoder (voice); either may be None/off."""

    def __init__(self, transcriber=None, speaker: SpeakerEncoder | None = None) -> None:
        self.transcriber = transcriber
        self.speaker = speaker

    @property
    def words_on(self) -> bool:
        return self.transcriber is not None and self.transcriber.enabled

    @property
    def voice_on(self) -> bool:
        return self.speaker is not None and self.speaker.enabled

    @property
    def enabled(self) -> bool:
        return self.words_on or self.voice_on

    def check(self, text: str, waveform: np.ndarray, sample_rate: int, seed: int,
              reference: Path | bytes | None = None) -> TakeScore:
        """Score one take. A part whose model cannot load is left out with a note; a take that cannot
        be scored at all raises StudioError."""
        score = TakeScore(seed)
        take_16k = decode_audio(encode_wav(waveform, sample_rate), ASR_SAMPLE_RATE)
        if self.words_on:
            try:
                heard = self.transcriber.transcribe(encode_wav(take_16k, ASR_SAMPLE_RATE))
            except StudioError as err:  # a model that cannot load, a silent take
                score.notes.append(f"Words not checked: {err}")
            else:
                wer, score.missed, score.added = word_errors(spoken_words(text), heard)
                score.heard, score.word_error_rate, score.words_right = heard, wer, max(0.0, 1.0 - wer)
        else:
            score.notes.append("Words not checked: transcription is off on this server.")
        if reference is None:
            score.notes.append("Voice not compared: there is no reference clip.")
        elif self.voice_on:
            try:
                ours = self.speaker.embed(take_16k)
                theirs = self.speaker.embed(read_clip(reference, REFERENCE_CLIP, ASR_SAMPLE_RATE))
                score.voice_similarity = float(np.dot(ours, theirs))
            except StudioError as err:
                score.notes.append(f"Voice not compared: {err}")
        else:
            score.notes.append("Voice not compared: the speaker model is off on this server.")
        return score
