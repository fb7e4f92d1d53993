"""Audio out, piece by piece, in the formats speech APIs hand back (mp3, opus, aac, flac, wav, pcm),
optionally sped up or slowed down without changing the pitch (FFmpeg's `atempo`, through PyAV).

`AudioEncoder.feed(waveform)` returns the bytes ready so far, `finish()` the rest: the pieces joined are
one playable file, so they can be sent while a take is still being generated. Such a file cannot know its
totals: a streamed WAV says "unknown size" and a streamed FLAC has no sample count (some readers refuse
it). `AudioEncoder(..., whole=True)` holds the bytes until `finish()` and returns one complete file whose
headers carry them (WAV RIFF/data sizes, FLAC STREAMINFO).
"""

from __future__ import annotations

import io
import struct

import numpy as np

from inference.audio.codec import to_int16
from inference.contract.formats import FORMATS, MAX_SPEED, MIN_SPEED
from inference.contract.formats import MEDIA_TYPES as MEDIA_TYPES  # re-exported for the HTTP door
from inference.contract.request import SAMPLE_RATE

# name -> (container, codec); opus comes in Ogg and aac in ADTS, as OpenAI's speech API sends them.
CONTAINERS = {"mp3": ("mp3", "libmp3lame"), "opus": ("ogg", "libopus"), "aac": ("adts", "aac"),
              "flac": ("flac", "flac")}
# The formats whose header holds totals that a file sent while generating cannot know yet.
NEEDS_TOTALS = ("wav", "flac")


class _Sink:
    """A write-only file for PyAV: muxed bytes collect here until taken. Having no seek, the muxers write
    streamable files (no header rewritten at the end)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def write(self, data) -> int:
        self._buffer += data
        return len(data)

    def take(self) -> bytes:
        data, self._buffer = bytes(self._buffer), bytearray()
        return data


def _frame(samples: np.ndarray, sample_rate: int):
    import av

    frame = av.AudioFrame.from_ndarray(to_int16(samples)[None, :], format="s16", layout="mono")
    frame.sample_rate = sample_rate
    return frame


class _Tempo:
    """FFmpeg's atempo filter (0.5-2.0 per stage, chained for 0.25-4.0)."""

    def __init__(self, speed: float, sample_rate: int) -> None:
        import av.filter

        stages, left = [], speed
        while left < 0.5 or left > 2.0:
            stages.append(0.5 if left < 0.5 else 2.0)
            left /= stages[-1]
        stages.append(left)
        self.graph = av.filter.Graph()
        node = self.graph.add_abuffer(format="s16", sample_rate=sample_rate, layout="mono", channels=1)
        first = node
        for stage in stages:
            following = self.graph.add("atempo", f"{stage:.6f}")
            node.link_to(following)
            node = following
        node.link_to(self.graph.add("abuffersink"))
        self.graph.configure()
        self._input = first

    def process(self, frame) -> list:
        import av

        self.graph.push(frame)  # None flushes
        out = []
        while True:
            try:
                out.append(self.graph.pull())
            except (av.BlockingIOError, av.EOFError):
                return out


class AudioEncoder:
    def __init__(self, fmt: str, speed: float = 1.0, sample_rate: int = SAMPLE_RATE, whole: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unsupported format {fmt!r} (use one of {', '.join(FORMATS)})")
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}")
        self.fmt, self.sample_rate, self.whole = fmt, sample_rate, whole
        self._held = bytearray()  # whole: the bytes so far, given out by finish()
        self._tempo = _Tempo(speed, sample_rate) if speed != 1.0 else None
        self._started = False
        self._container = self._stream = None
        if fmt in CONTAINERS:
            import av

            container, codec = CONTAINERS[fmt]
            self._sink = io.BytesIO() if whole else _Sink()  # seekable: the muxer writes the totals at the end
            # bitexact: the same take gives the same bytes (Ogg's stream serial number is random otherwise)
            self._container = av.open(self._sink, mode="w", format=container, options={"fflags": "+bitexact"})
            self._stream = self._container.add_stream(codec, rate=sample_rate, layout="mono")
            if fmt in ("mp3", "aac", "opus"):
                self._stream.bit_rate = 64_000 if fmt == "opus" else 128_000

    def feed(self, waveform: np.ndarray) -> bytes:
        """Encode the next piece of the take (mono float32); returns the bytes ready so far."""
        if not len(waveform):
            return self._header()
        frames = [_frame(np.asarray(waveform, np.float32), self.sample_rate)]
        if self._tempo is not None:
            frames = [out for frame in frames for out in self._tempo.process(frame)]
        return self._give(self._header() + b"".join(self._encode(frame) for frame in frames))

    def finish(self) -> bytes:
        data = self._header()
        if self._tempo is not None:
            data += b"".join(self._encode(frame) for frame in self._tempo.process(None))
        if self._container is not None:
            data += self._encode(None)
            self._container.close()
            data += self._sink.getvalue() if self.whole else self._sink.take()
        if not self.whole:
            return data
        data = bytes(self._held) + data
        return _wav_header(self.sample_rate, len(data)) + data if self.fmt == "wav" else data

    def _give(self, data: bytes) -> bytes:
        if self.whole:
            self._held += data
            return b""
        return data

    def _header(self) -> bytes:
        """WAV streamed before its length is known: the sizes say 'unknown' (0xFFFFFFFF), as OpenAI sends it.
        (A whole WAV gets its header with the sizes in finish().)"""
        if self._started:
            return b""
        self._started = True
        return _wav_header(self.sample_rate, None) if self.fmt == "wav" and not self.whole else b""

    def _encode(self, frame) -> bytes:
        if self._container is None:
            return b"" if frame is None else frame.to_ndarray().astype("<i2").tobytes()
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        return b"" if self.whole else self._sink.take()


def _wav_header(rate: int, data_bytes: int | None) -> bytes:
    """16-bit mono PCM; None: the sizes say 'unknown' (0xFFFFFFFF)."""
    riff, data = (0xFFFFFFFF, 0xFFFFFFFF) if data_bytes is None else (36 + data_bytes, data_bytes)
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16) + b"data" + struct.pack("<I", data))


def pcm_to_float(data: bytes) -> np.ndarray:
    """Raw 16-bit little-endian mono -> float32 in [-1, 1]."""
    return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0

