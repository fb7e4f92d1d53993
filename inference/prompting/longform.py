"""Long texts: split into chunks that each fit one generation, at sentence boundaries.

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
# sound-effect markup, which speaks no words: short bracketed tags only, so a long bracketed aside still
# counts against the budget
_TAG = re.compile(r"</?SE(_[se])?>|\[[^\]\n]{1,30}\]")
_UNIT = re.compile(f"[{_CJK}]\\s*|[^\\s{_CJK}]+\\s*|\\s+")  # a CJK character or a spaced word
# a sentence ends after . ! ? ; (or one of them and a closing quote) or a sound-effect tag, followed by a space or
# by CJK text
_SENTENCE_END = re.compile(f"(?<=[.!?;])\\s*(?=[{_CJK}])|(?<=[.!?;])\\s+|(?<=[.!?;][\"'\u201d\u2019)])\\s+"
                           "|(?<=</SE>)\\s+|(?<=</SE_e>)\\s+")
# ...but not after a title, "e.g."/"i.e." or a name's initial ("Dr. Smith", "John F. Kennedy")
_NO_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|vs|e\.g|i\.e)|(?<![\w.])[A-Z])\.\s*\Z")


def _words(text: str) -> int:
    return len(text.split()) + len(_CJK_CHAR.findall(text)) // _CJK_CHARS_PER_WORD


def split_text(text: str, max_words: int = MAX_CHUNK_WORDS, by_sentence: bool = False) -> list[str]:
    """Chunks of at most ~max_words, cut between sentences (words or CJK characters for run-ons).
    Short lines are gathered into one chunk, and pieces with nothing to say (`***`, a lone sound
    tag) ride along with their neighbours instead of becoming a generation of their own.
    `by_sentence` makes every sentence a chunk of its own (a take to edit sentence by sentence)."""
    if _words(text) <= max_words and not by_sentence:
        return [text]
    chunks: list[str] = []
    current = ""
    for piece in _pieces(text, max_words):
        if _speaks(current) and _speaks(piece) and (by_sentence or _words(current + piece) > max_words):
            chunks.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        if chunks and not _speaks(current):
            chunks[-1] += " " + current.strip()
        else:
            chunks.append(current.strip())
    return chunks


def _speaks(piece: str) -> bool:
    """Whether a piece holds any word to speak (sound-effect tags alone do not count)."""
    return bool(re.search(r"\w", _TAG.sub("", piece)))


def _pieces(text: str, max_words: int) -> list[str]:
    """Sentences with their trailing whitespace (line breaks kept), run-on sentences cut by words."""
    pieces = []
    for line in text.splitlines(keepends=True):
        cuts = [m.end() for m in _SENTENCE_END.finditer(line) if not _NO_END.search(line, max(m.start() - 8, 0), m.end())]
        for a, b in zip([0, *cuts], [*cuts, len(line)], strict=True):
            pieces.extend(_cut_long_sentence(line[a:b], max_words))
    return [p for p in pieces if p]


def _cut_long_sentence(sentence: str, max_words: int) -> list[str]:
    if _words(sentence) <= max_words:
        return [sentence]
    parts, current = [], ""
    for unit in _UNIT.findall(sentence):  # each CJK character or each spaced word, with its trailing space
        if current and _words(current + unit) > max_words:
            parts.append(current)
            current = ""
        current += unit
    return [*parts, current] if current else parts
