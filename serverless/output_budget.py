"""What a job's answer can hold, checked before its take is generated and while it streams.

RunPod drops a job output over 20 MB (a plain result, and a streamed job's chunks, which /runsync and
/status return all together). Without S3 a plain take comes back inline as base64: WAV, or MP3 when WAV
would not fit (serverless/worker.py `_deliver`). A take that could not fit even as MP3 was refused only
after it was generated (a 1145 s take after 225 s of work); now the longest take a job can give (its parts
times max_new_tokens, see `longest_take_s`) is checked first. Streamed chunks (WAV, always inline) are
counted as they go out, and the take is stopped at the cap (a streamed job's answer reached 74.5 MB).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from inference.contract.errors import InvalidRequest, StudioError
from inference.contract.request import SAMPLE_RATE
from inference.contract.result import StreamChunk
from inference.prompting.plan import longest_take_s

INLINE_LIMIT = 16_000_000  # base64 characters in a plain result
STREAM_LIMIT = 16_000_000  # base64 characters in all of a streamed job's chunks
MP3_BYTES_PER_S = 128_000 // 8  # the worker's MP3 is 128 kbit/s
MP3_OVERHEAD = 4096  # ID3 tags and the encoder's first frames (1.6 kB measured)
WAV_BYTES_PER_SAMPLE = 2  # 16-bit PCM
CHUNK_OVERHEAD = 1024  # a streamed chunk's WAV header and tags (346 bytes measured) and its other fields


def base64_chars(size: float) -> int:
    return 4 * math.ceil(size / 3)


def check_returnable(parsed, storage) -> None:
    """Refuse (InvalidRequest), before any generation, a plain job without S3 whose longest possible take
    would not fit in RunPod's output even as MP3. Streamed jobs are capped as they go (see `capped`)."""
    if parsed.options.prompt_only or parsed.options.stream or getattr(storage, "config", None) is not None:
        return
    seconds = longest_take_s(parsed.request)
    if base64_chars(seconds * MP3_BYTES_PER_S + MP3_OVERHEAD) <= INLINE_LIMIT:
        return
    fits_s = (INLINE_LIMIT * 3 / 4 - MP3_OVERHEAD) / MP3_BYTES_PER_S
    raise InvalidRequest(
        f"This job can make up to {seconds:.0f} s of audio (every part up to max_new_tokens="
        f"{parsed.request.sampling.max_new_tokens}), too much to return through RunPod, whose job output is capped "
        f"at 20 MB (about {fits_s:.0f} s as MP3): lower max_new_tokens, shorten the text, or configure S3 "
        "(HVS_S3_BUCKET).")


def capped(chunks: Iterator[StreamChunk], limit: int | None = None) -> Iterator[StreamChunk]:
    """A take's streamed chunks, until the WAV chunks sent would pass `limit` base64 characters (default
    STREAM_LIMIT): then the take is stopped and StudioError says how much went out."""
    limit = STREAM_LIMIT if limit is None else limit
    sent, seconds = 0, 0.0
    try:
        for chunk in chunks:
            if len(chunk.waveform):
                sent += base64_chars(len(chunk.waveform) * WAV_BYTES_PER_SAMPLE) + CHUNK_OVERHEAD
                if sent > limit:
                    raise StudioError(
                        f"The streamed take reached RunPod's 20 MB output cap after {seconds:.0f} s of audio and was "
                        "stopped there (the chunks sent hold those seconds): lower max_new_tokens or shorten the "
                        "text, or send the job without stream with S3 configured (HVS_S3_BUCKET).")
                seconds += len(chunk.waveform) / SAMPLE_RATE
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # stops the take (the engine frees its row)
