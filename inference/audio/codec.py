"""Reading and writing audio: any container a browser or a person hands over -> mono float32 at 24 kHz.

Decoding goes through PyAV (FFmpeg), so wav of any bit depth, flac, ogg/opus, mp3, m4a/aac and webm
all take the same path, and resampling/downmixing is FFmpeg's.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from inference.contract.errors import InvalidAudio
from inference.contract.request import SAMPLE_RATE

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Without max_seconds (our own takes: up to 20 minutes, a recipe's limit; incoming clips always pass their own
# limit, inference/audio/incoming.py): still refuse an hour-long file.
MAX_DECODED_SECONDS = 30 * 60


def decode_audio(source: Path | bytes, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None
                 ) -> np.ndarray:
    """Decode a file (path or bytes) to mono float32 at `sample_rate`. Raises InvalidAudio.

    With `max_seconds`, decoding stops once that much audio has been read and the start of the clip
    comes back: the cost is bounded by the decoded duration, whatever the file's rate, channels or
    compression (a 2 MB FLAC can hold minutes of 8-channel 192 kHz audio)."""
    import av

    size = len(source) if isinstance(source, bytes) else Path(source).stat().st_size
    if size == 0:
        raise InvalidAudio("The audio file is empty.")
    if size > MAX_UPLOAD_BYTES:
        raise InvalidAudio(f"The audio file is {size / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    chunks: list[np.ndarray] = []
    try:
        with av.open(handle, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise InvalidAudio("The file has no audio track.")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            decoded = 0
            wanted = None if max_seconds is None else int(max_seconds * sample_rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    decoded += out.samples
                if wanted is not None and decoded >= wanted:
                    return np.concatenate(chunks)[:wanted].astype(np.float32, copy=False)
                if wanted is None and decoded > MAX_DECODED_SECONDS * sample_rate:  # (a caller's own limit rules)
                    raise InvalidAudio(f"The audio is longer than {MAX_DECODED_SECONDS // 60} minutes.")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except InvalidAudio:
        raise
    except (av.FFmpegError, ValueError, IndexError, OSError) as err:
        raise InvalidAudio(
            "Could not read the audio file: it is not a supported audio format or it is damaged "
            "(use wav, flac, mp3, ogg/opus, m4a or webm)."
        ) from err
    if not chunks:
        raise InvalidAudio("The audio file holds no samples.")
    return np.concatenate(chunks).astype(np.float32, copy=False)


def to_int16(waveform: np.ndarray) -> np.ndarray:
    return (np.clip(waveform, -1.0, 1.0) * 32767.0).astype(np.int16)


# Written takes say what they are: WAV INFO (INAM/ICMT/ISFT/IART) and MP3 ID3v2 (TIT2/COMM/TENC/TPE1).
AI_TAGS = {
    "title": "AI-generated speech",
    "comment": "AI-generated audio: synthetic speech made with Higgs Voice Studio (Boson AI's Higgs Audio V2). "
               "It carries an inaudible watermark unless the server's operator turned it off.",
    "software": "Higgs Voice Studio",
    "artist": "AI voice (Higgs Audio V2)",
}
_ID3_NAMES = {"title": "title", "comment": "comment", "software": "encoded_by", "artist": "artist"}


def encode_wav(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE, tags: dict[str, str] | None = None) -> bytes:
    """16-bit PCM wav bytes, with `tags` (keys of AI_TAGS) as a LIST/INFO chunk."""
    import soundfile as sf

    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", sample_rate, 1, format="WAV", subtype="PCM_16") as wav:
        wav.write(to_int16(waveform))
        for name, value in (tags or {}).items():
            setattr(wav, name, value)  # libsndfile writes the strings when the file is closed
    return buffer.getvalue()


def encode_mp3(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE, bitrate: int = 128_000,
               tags: dict[str, str] | None = None) -> bytes:
    """MP3 bytes through FFmpeg's LAME encoder, with `tags` (keys of AI_TAGS) as ID3v2 frames."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as container:
        container.metadata.update({_ID3_NAMES[name]: value for name, value in (tags or {}).items()})
        stream = container.add_stream("libmp3lame", rate=sample_rate, layout="mono")
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(to_int16(waveform)[None, :], format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def encode(waveform: np.ndarray, fmt: str, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A generated take as a file: every take the studio, CLI and worker write goes through here (tagged)."""
    if fmt == "wav":
        return encode_wav(waveform, sample_rate, AI_TAGS)
    if fmt == "mp3":
        return encode_mp3(waveform, sample_rate, tags=AI_TAGS)
    raise ValueError(f"unsupported output format {fmt!r} (use wav or mp3)")
