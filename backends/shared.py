"""What the remote backends share: the prompt stand-in, and a reference clip made small enough to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inference.contract.errors import InvalidAudio


@dataclass
class RemotePrompt:
    """The prompt as the server rendered it (the local engine's PreparedPrompt, minus the tensors)."""

    rendered: str
    warnings: list[str] = field(default_factory=list)
    audio_frames: int = 0


def reference_bytes(source: Path | bytes, limit: int) -> bytes:
    """The reference clip's file bytes, re-encoded as 24 kHz mono 16-bit wav (what the model uses anyway)
    when the file is bigger than `limit`, e.g. long or uncompressed."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if len(data) <= limit:
        return data
    from inference.audio.codec import encode_wav
    from inference.audio.incoming import read_clip
    from inference.audio.reference import REFERENCE_CLIP

    data = encode_wav(read_clip(data, REFERENCE_CLIP))
    if len(data) > limit:
        raise InvalidAudio("The reference clip is too long to send to the remote server: use 5-30 seconds.")
    return data
