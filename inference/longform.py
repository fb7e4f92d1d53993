"""Long texts: split into chunks that each fit one generation, at paragraph and sentence boundaries.

Like Boson AI's generation script (chunking by words, keeping the last chunks as context), with a
budget small enough that one chunk stays well inside the default 2048 tokens (~82 s of audio).
"""

from __future__ import annotations

import re

MAX_CHUNK_WORDS = 100  # ~40 s of speech at 150 words/min
CONTEXT_CHUNKS = 2  # earlier chunks kept in the prompt so the voice carries over
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"  # kana, CJK ideographs, hangul: written without spaces
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_CHARS_PER_WORD = 3
# a sentence ends after . ! ? ; or a sound-effect tag, followed by a space or by CJK text
_SENTENCE_END = re.compile(f"(?<=[.!?;])\\s*(?=[{_CJK}])|(?<=[.!?;])\\s+|(?<=</SE>)\\s+|(?<=</SE_e>)\\s+")


def _words(text: str) -> int:
    return len(text.split()) + len(_CJK_CHAR.findall(text)) // _CJK_CHARS_PER_WORD


def split_text(text: str, max_words: int = MAX_CHUNK_WORDS) -> list[str]:
    """Chunks of at most ~max_words, cut at paragraph, then sentence, then word boundaries."""
    if _words(text) <= max_words:
        return [text]
    chunks: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for piece in (p for s in _sentences(paragraph) for p in _cut_long_sentence(s, max_words)):
            if current.strip() and _words(current + piece) > max_words:
                chunks.append(current.strip())
                current = ""
            current += piece
        if current.strip():
            chunks.append(current.strip())
    return chunks


def _sentences(paragraph: str) -> list[str]:
    """Sentences with their trailing whitespace, so that joining them gives the paragraph back."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(paragraph)]
    return [paragraph[a:b] for a, b in zip([0, *cuts], [*cuts, len(paragraph)], strict=True) if paragraph[a:b]]


def _cut_long_sentence(sentence: str, max_words: int) -> list[str]:
    words = sentence.split()
    if len(words) <= max_words:
        return [sentence]
    return [" ".join(words[i:i + max_words]) + " " for i in range(0, len(words), max_words)]
