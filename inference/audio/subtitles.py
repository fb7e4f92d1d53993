"""Subtitles of a take: its timed segments (dialogue turns, long-text chunks) as WebVTT or SRT."""

from __future__ import annotations

from inference.contract.result import Segment

FORMATS = ("vtt", "srt")


def _clock(seconds: float, decimal: str) -> str:
    ms = int(round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{ms:03d}"


def _cue_text(segment: Segment, vtt: bool) -> str:
    clean = _vtt_escape if vtt else _srt_clean
    text = clean(" ".join(segment.text.split()))
    if not segment.speaker:
        return text
    speaker = clean(" ".join(segment.speaker.split()))  # one line: a blank line would end the cue
    # WebVTT names the speaker with a voice span, which players show or style; SRT has only plain text
    return f"<v {speaker}>{text}" if vtt else f"{speaker}: {text}"


def _vtt_escape(text: str) -> str:
    """Cue text is markup: "<" opens a tag, "&" an entity, and "-->" would end the cue (it becomes "--&gt;")."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _srt_clean(text: str) -> str:
    """SRT has no escapes; a "-->" in the text would read as a timing line."""
    return text.replace("-->", "->")


def to_vtt(segments: list[Segment]) -> str:
    cues = [f"{_clock(s.start_s, '.')} --> {_clock(s.end_s, '.')}\n{_cue_text(s, True)}" for s in segments]
    return "WEBVTT\n\n" + "\n\n".join(cues) + ("\n" if cues else "")


def to_srt(segments: list[Segment]) -> str:
    cues = [f"{i}\n{_clock(s.start_s, ',')} --> {_clock(s.end_s, ',')}\n{_cue_text(s, False)}"
            for i, s in enumerate(segments, start=1)]
    return "\n\n".join(cues) + ("\n" if cues else "")


def render(segments: list[Segment], fmt: str) -> str:
    """`fmt` is 'vtt' or 'srt' (a file suffix, with or without the dot)."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "vtt":
        return to_vtt(segments)
    if fmt == "srt":
        return to_srt(segments)
    raise ValueError(f"unknown subtitle format {fmt!r} (use .vtt or .srt)")
