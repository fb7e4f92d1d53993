"""Dialogue scripts: lines that say who speaks, turned into numbered speakers and turns.

Two notations, mixed freely:
    [SPEAKER0] Hello there.        the official Higgs Audio tag
    Alice: Hello there.            a short name and a colon at the start of a line (CJK '：' too)

Speakers are numbered in order of first appearance (SPEAKER0, SPEAKER1, ...): the names written are
labels, the model only sees the numbers. A line without a name continues the current speaker's turn.
Sound-effect tags such as [laugh] are never speakers. No torch in here: every front door validates
a script with it before anything is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inference.prompting.text import ALL_TAGS

MAX_SPEAKERS = 4  # beyond that voices bleed into each other (higgs-audio issue #138)
MAX_NAME_CHARS = 24
MAX_NAME_WORDS = 3

_OFFICIAL = re.compile(r"^\s*\[(SPEAKER\d{1,2})\]\s*(.*)$", re.IGNORECASE)
# a name starts with a letter, may hold spaces, dots, apostrophes and hyphens; '://' is a URL, not a name
_NAMED = re.compile(r"^\s*([^\W\d_][\w .'\-]*?)\s*[:：](?!//)\s*(.*)$")
_SOUND_TAG = re.compile(r"\[[^\]\n]{1,30}\]")
# the words of the sound-effect tags ([laugh], [humming start], ...): a speaker may not be called so
SOUND_TAG_NAMES = frozenset(word for tag in ALL_TAGS for word in tag.strip("[]").split() if word not in
                            ("start", "end"))


class ScriptError(ValueError):
    """The script cannot be spoken as written; the message says what to change."""


@dataclass(frozen=True)
class Turn:
    speaker: str  # the name as first written in the script ("Alice", "SPEAKER0")
    number: int  # the model's speaker number, by first appearance
    text: str  # what is said, as written (tags included), lines joined by newlines
    line: int  # 1-based line where the turn starts

    @property
    def tag(self) -> str:
        return f"SPEAKER{self.number}"


@dataclass(frozen=True)
class Script:
    speakers: list[str]  # names in order of first appearance; index = speaker number
    turns: list[Turn]

    def number_of(self, name: str) -> int | None:
        key = name.strip().casefold()
        return next((i for i, known in enumerate(self.speakers) if known.casefold() == key), None)


def has_official_tags(text: str) -> bool:
    return any(_OFFICIAL.match(line) for line in text.splitlines())


def speaker_of_line(line: str) -> tuple[str, str] | None:
    """(speaker name, rest of the line) when the line opens a turn, else None."""
    if match := _OFFICIAL.match(line):
        return match.group(1).upper(), match.group(2)
    match = _NAMED.match(line)
    if match and len(match.group(1)) <= MAX_NAME_CHARS and len(match.group(1).split()) <= MAX_NAME_WORDS:
        return match.group(1), match.group(2)
    return None


def parse_script(text: str, max_speakers: int = MAX_SPEAKERS) -> Script:
    """Speakers and turns of a script. Raises ScriptError with a sentence a person can act on."""
    speakers: list[str] = []
    turns: list[tuple[str, int, list[str]]] = []  # speaker, line, lines of text
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        opened = speaker_of_line(line)
        if opened is None:
            if not turns:
                raise ScriptError(
                    f"Line {number} says nothing about who speaks: start the script with a speaker, "
                    "e.g. 'Alice: Hello.' or '[SPEAKER0] Hello.'")
            turns[-1][2].append(line.strip())
            continue
        name, rest = opened
        _check_name(name, number)
        if not any(known.casefold() == name.casefold() for known in speakers):
            speakers.append(name)
        name = next(known for known in speakers if known.casefold() == name.casefold())
        turns.append((name, number, [rest.strip()] if rest.strip() else []))
    if not turns:
        raise ScriptError("The script is empty: write one line per turn, e.g. 'Alice: Hello.' then 'Bob: Hi!'.")
    if len(speakers) > max_speakers:
        raise ScriptError(
            f"The script has {len(speakers)} speakers ({', '.join(speakers)}); at most {max_speakers} are "
            "supported, as voices start to blend with more. Merge or remove a speaker.")
    script = Script(speakers, [Turn(name, speakers.index(name), "\n".join(lines), line)
                               for name, line, lines in turns])
    for turn in script.turns:
        if not re.search(r"\w", _SOUND_TAG.sub("", turn.text)):
            what = "only sound tags" if turn.text.strip() else "no text"
            raise ScriptError(
                f"{turn.speaker}'s turn on line {turn.line} has {what}: give it words to say "
                "(a tag like [laugh] can go inside a turn that has words).")
    return script


def _check_name(name: str, line: int) -> None:
    if name.casefold() in SOUND_TAG_NAMES:
        raise ScriptError(
            f"The speaker name {name!r} on line {line} is also a sound-effect tag ([{name.lower()}]); "
            "give the speaker another name.")
