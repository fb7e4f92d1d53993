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
MAX_SCRIPT_CHARS = 2_000  # a script is a request's text: the same limit (MAX_TEXT_CHARS), checked before parsing
MAX_NAME_CHARS = 24
MAX_NAME_WORDS = 3

_OFFICIAL = re.compile(r"^\s*\[(SPEAKER\d{1,2})\]\s*(.*)$", re.IGNORECASE)
# A name starts with a letter and may hold spaces, dots, apostrophes and hyphens. Found without a backtracking
# pattern: on user text one would hold the GIL for seconds (a quadratic pattern froze every route for 99 s).
_NAME_CHARS = re.compile(r"[\w .'\-]+")
_COLONS = (":", "：")
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
    colon = min((i for i in map(line.find, _COLONS) if i >= 0), default=-1)
    if colon < 0 or line.startswith("//", colon + 1):  # no colon, or '://' (a URL, not a name)
        return None
    name = line[:colon].strip()
    if not name or len(name) > MAX_NAME_CHARS or len(name.split()) > MAX_NAME_WORDS:
        return None
    if not (name[0].isalpha() and _NAME_CHARS.fullmatch(name)):  # (bounded: at most MAX_NAME_CHARS)
        return None
    return name, line[colon + 1:].strip()


def parse_script(text: str, max_speakers: int = MAX_SPEAKERS) -> Script:
    """Speakers and turns of a script. Raises ScriptError with a sentence a person can act on."""
    if len(text) > MAX_SCRIPT_CHARS:  # before any parsing: the work is then bounded whatever was sent
        raise ScriptError(f"The script is {len(text)} characters long; the limit is {MAX_SCRIPT_CHARS}.")
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
