"""The command line's flags -> the studio's front request (studio/take_request.py): the text or script, the
voice or each speaker's (a clip file, a voice name, words), the scene and the options."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from inference.contract.errors import InvalidRequest
from inference.contract.request import MAX_TEXT_CHARS, SamplingOptions
from studio.take_request import TakeRequest
from studio.voice_library import AUDIO_SUFFIXES
from studio.voices import Voice, VoiceResolver, VoiceSpec


def take_request(args: argparse.Namespace, voices: VoiceResolver) -> TakeRequest:
    """The take or dialogue the flags ask for; a speaker's voice is resolved here, so a bad one names its flag."""
    sampling = {name: getattr(args, name) for name in SamplingOptions.model_fields}
    options = {"candidates": args.candidates, "parts": args.parts, **sampling}
    if args.script is None:
        if args.speaker or args.speaker_text or args.speaker_description or args.pause is not None \
                or args.voice_layout is not None:
            raise InvalidRequest("--speaker, --speaker-text, --speaker-description, --pause and --voice-layout go "
                                 "with --script.")
        speakers = None
    else:
        if args.voice is not None:
            raise InvalidRequest("--voice is for a single take; give each speaker's voice with --speaker NAME=VOICE.")
        speakers, options = _speakers(args, voices), {**options, "pause_s": args.pause, "voice_layout": args.voice_layout}
    voice = VoiceSpec(name=args.voice, clip=args.reference, clip_text=args.reference_text)
    return TakeRequest(_text(args), voice, speakers, scene=args.scene, seed=args.seed, options=options)


def _text(args: argparse.Namespace) -> str:
    if args.script is not None and args.text is not None:
        raise InvalidRequest("Give either a TEXT or --script, not both.")
    if args.script is None:
        if args.text is None:
            raise InvalidRequest("Give the TEXT to speak (or --script FILE for a dialogue).")
        return read_bounded(sys.stdin, "the text on stdin") if args.text == "-" else args.text
    if str(args.script) == "-":
        return read_bounded(sys.stdin, "the script on stdin")
    try:
        with args.script.open(encoding="utf-8-sig") as file:  # a BOM (Notepad) is no part of a name
            return read_bounded(file, f"the script {args.script}")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidRequest(f"could not read the script {args.script}: {getattr(err, 'strerror', None) or err}.") from None


def read_bounded(stream: TextIO, what: str) -> str:
    """At most a few times what a take may hold: /dev/zero or an endless pipe has no size, and would fill memory.
    (A text just over the limit is read whole, and refused by the request's own check, which counts it.)"""
    limit = 4 * MAX_TEXT_CHARS
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise InvalidRequest(f"{what} is longer than {limit} characters; a take speaks at most {MAX_TEXT_CHARS}.")
    return text


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise InvalidRequest(f"{flag} takes NAME=VALUE, e.g. {flag} Alice=... (got {value!r}).")
        if name.strip() in pairs:
            raise InvalidRequest(f"{flag} gives {name.strip()} twice; give each speaker once.")
        pairs[name.strip()] = rest
    return pairs


def _speakers(args: argparse.Namespace, voices: VoiceResolver) -> dict[str, Voice]:
    """--speaker / --speaker-text / --speaker-description -> the request's `speakers`."""
    given, texts = _pairs(args.speaker, "--speaker"), _pairs(args.speaker_text, "--speaker-text")
    described = _pairs(args.speaker_description, "--speaker-description")
    speakers: dict[str, Voice] = {}
    for name in dict.fromkeys([*described, *given, *texts]):
        value = given.get(name, "")
        clip = _clip_file(name, value)
        try:
            voice = voices.resolve(VoiceSpec(name=None if clip else value, clip=clip, clip_text=texts.get(name),
                                             description=described.get(name)))
        except InvalidRequest as err:
            raise InvalidRequest(f"--speaker {name}={value}: {err}" if name in given else str(err)) from None
        if name in texts and voice.reference_audio is None:
            raise InvalidRequest(f"--speaker-text {name}=... needs a clip: --speaker {name}=clip.wav.")
        speakers[name] = voice
    return speakers


def _clip_file(name: str, value: str) -> Path | None:
    """A --speaker value that is a file; one that looks like a file name but is not there is refused."""
    path = Path(value.strip())
    if value.strip() and path.is_file():
        return path
    if "/" in value or os.sep in value or path.suffix.lower() in AUDIO_SUFFIXES:
        raise InvalidRequest(f"--speaker {name}={value}: there is no such file.")
    return None
