"""A take on its own thread while the HTTP response sends it: `Take`, the response that stops it however it ends,
and the three bodies: audio bytes as they come, OpenAI's speech SSE events, or one complete file."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator

import anyio
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from inference.audio.formats import MEDIA_TYPES, NEEDS_TOTALS, AudioEncoder
from inference.contract.request import FRAME_RATE, SynthesisRequest
from inference.contract.result import StreamChunk
from studio.cancel import stream_cancellable
from studio.revise import recipe_object
from studio.service import Studio

from .errors import from_studio_error
from .gate import Gate
from .speech import SpeechBody

log = logging.getLogger(__name__)


class Take:
    """A take through the studio, made on a thread of its own (studio/cancel.py) once the gate lets it in;
    its chunks are read in order with `next()`. `stop()` ends it: the engine stops within a step."""

    def __init__(self, studio: Studio, request: SynthesisRequest, gate: Gate) -> None:
        self.cancel = threading.Event()
        self._studio, self._request, self._gate = studio, request, gate
        self._chunks = stream_cancellable(self._made, cancel=self.cancel)

    def _made(self, cancel: threading.Event) -> Iterator[StreamChunk]:
        try:
            if not self._gate.start(cancel):
                return
            try:
                yield from self._studio.stream(self._request, cancel)
            finally:
                self._gate.finish()
        finally:
            self._gate.leave()

    def stop(self) -> None:
        self.cancel.set()

    async def next(self) -> StreamChunk | None:
        """The next chunk, or None at the end; raises what the engine raised."""
        return await anext(self._chunks, None)


class _TakeResponse(StreamingResponse):
    """However the response ends (done, client gone, cancelled), the take stops."""

    def __init__(self, take: Take, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.take = take

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.take.stop()


async def unless_gone(take: Take, request: Request, work: Awaitable):
    """What `work` gives (the take's first chunk, or the whole file). A caller that leaves before it (one
    waiting in the queue, say) stops the take at once; otherwise only sending audio would find out, after
    generating it for nobody."""

    async def watch() -> None:
        while (await request.receive())["type"] != "http.disconnect":  # the body is read: only this comes
            pass
        take.stop()

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            outcome = await work
        except Exception as err:  # noqa: BLE001 - raised below, outside the group (which would wrap it)
            outcome = err
        group.cancel_scope.cancel()
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def _pieces(take: Take, first) -> AsyncIterator:
    chunk = first
    while chunk is not None:
        yield chunk
        chunk = await take.next()


async def _whole(take: Take, first, encoder: AudioEncoder) -> bytes:
    """The take as one complete file (its headers carry the totals), encoded as its pieces come."""
    async for chunk in _pieces(take, first):
        await anyio.to_thread.run_sync(encoder.feed, chunk.waveform)
    return await anyio.to_thread.run_sync(encoder.finish)


async def _audio(take: Take, first, encoder: AudioEncoder) -> AsyncIterator[bytes]:
    try:
        async for chunk in _pieces(take, first):
            if data := await anyio.to_thread.run_sync(encoder.feed, chunk.waveform):
                yield data
        yield await anyio.to_thread.run_sync(encoder.finish)
    except Exception as err:  # noqa: BLE001 - the status is sent already: the stream ends short
        log.warning("speech stream ended early: %s", from_studio_error(err).message)


async def _events(take: Take, first, encoder: AudioEncoder) -> AsyncIterator[bytes]:
    """OpenAI's speech SSE: speech.audio.delta events (base64 audio), then speech.audio.done with usage and the
    take's recipe (an extra field, which OpenAI's clients pass over)."""

    def event(payload: dict) -> bytes:
        return f"data: {json.dumps(payload)}\n\n".encode()

    seconds, result = 0.0, None
    try:
        async for chunk in _pieces(take, first):
            seconds += len(chunk.waveform) / chunk.sample_rate
            result = chunk.result or result
            if data := await anyio.to_thread.run_sync(encoder.feed, chunk.waveform):
                yield event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        if data := await anyio.to_thread.run_sync(encoder.finish):
            yield event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode()})
        frames = round(seconds * FRAME_RATE)  # one generated token per 40 ms frame
        done = {"type": "speech.audio.done", "usage": {"input_tokens": 0, "output_tokens": frames, "total_tokens": frames}}
        recipe = recipe_object(result) if result is not None else None
        yield event(done | ({"recipe": recipe} if recipe else {}))  # the take's recipe (docs/editing.md)
    except Exception as err:  # noqa: BLE001
        error = from_studio_error(err)
        yield event({"type": "error", "error": {"message": error.message, "type": error.kind,
                                                "param": None, "code": error.code}})



async def respond(take: Take, first: StreamChunk, body: SpeechBody, headers: dict[str, str],
                  request: Request) -> Response:
    """The take sent as the caller asked: SSE events, audio as it comes, or one complete file. A complete file
    unless the caller asked for a stream (stream_format given) or the format needs no totals in its header:
    WAV and FLAC then come whole, with their sizes and a Content-Length."""
    whole = "stream_format" not in body.model_fields_set and body.response_format in NEEDS_TOTALS
    encoder = AudioEncoder(body.response_format, body.speed, whole=whole)
    if body.stream_format == "sse":
        return _TakeResponse(take, _events(take, first, encoder), media_type="text/event-stream", headers=headers)
    if whole:
        try:
            data = await unless_gone(take, request, _whole(take, first, encoder))
        except Exception as err:  # noqa: BLE001 - nothing is sent yet: the error gets its status
            return from_studio_error(err).response()
        finally:
            take.stop()  # (ended already; a caller who left gets this answer unread)
        return Response(data, media_type=MEDIA_TYPES[body.response_format], headers=headers)
    return _TakeResponse(take, _audio(take, first, encoder), media_type=MEDIA_TYPES[body.response_format],
                         headers=headers)
