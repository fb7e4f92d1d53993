"""The HTTP side: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices on the studio's own server.

Errors come in OpenAI's shape, {"error": {"message", "type", "param", "code"}}: 400 bad input, 401 bad or
missing key, 413 body too large, 429 queue full (or too many wrong keys), 503 model not ready
or shutting down. A take streams while it is generated, except a WAV or FLAC asked for without a
`stream_format`: that comes as one complete file (its headers carry the totals). A client that goes away
stops it.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterator

import anyio
from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from inference.audio.formats import MEDIA_TYPES, NEEDS_TOTALS, AudioEncoder
from inference.contract.errors import InvalidRequest, StudioError
from inference.contract.request import FRAME_RATE, SynthesisRequest
from inference.contract.result import StreamChunk
from studio.access import Access, Caller, login_cookie
from studio.cancel import stream_cancellable
from studio.revise import recipe_object
from studio.service import Studio
from studio.throttle import Throttle

from .docs import SPEECH_DOC, docs_routes
from .speech import EXTENSIONS, SpeechBody, synthesis_request, voice_list

log = logging.getLogger(__name__)

API_KEY_ENV = "HVS_API_KEY"
MAX_BODY_BYTES = 20 * 2**20  # room for a 30 s reference clip as base64 wav
_STARTED = int(time.time())


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def _from_studio_error(err: Exception) -> ApiError:
    if isinstance(err, InvalidRequest):
        return ApiError(400, str(err))
    if isinstance(err, StudioError):
        return ApiError(500, str(err), "server_error")
    log.exception("unexpected failure in /v1/audio/speech")
    return ApiError(500, f"Something went wrong on the server ({type(err).__name__}). Please try again.",
                    "server_error")


# ---- who may call ------------------------------------------------------------------------------
def _guard(request: Request, key: str, throttle: Throttle) -> None:
    """`key` (HVS_API_KEY) as a Bearer token, or the studio's login (see studio/access.py); else 401, or 429
    while the caller's address is locked out for wrong passwords or keys."""
    app = request.app
    logins = getattr(app, "auth", None)
    token = login_cookie(request.cookies, app.cookie_id) if logins else None
    access = Access(key, logins, getattr(app, "tokens", {}))
    address = request.client.host if request.client else None
    verdict = access.admit(Caller(request.headers.get("authorization", ""), token, address=address), throttle)
    if verdict.status == 429:
        raise ApiError(429, verdict.message, "rate_limit_error", "too_many_wrong_credentials",
                       headers={"Retry-After": str(verdict.retry_after_s)})
    if not verdict.allowed:
        raise ApiError(401, verdict.message, code="invalid_api_key", headers={"WWW-Authenticate": access.challenge()})


# ---- how many at once --------------------------------------------------------------------------
class Gate:
    """At most `running` takes generate at once and `waiting` more wait; a request beyond that gets 429,
    like the page's queue (--max-batch, --queue-size). `waiting` is read by /healthz and the SIGTERM drain."""

    def __init__(self, running: int, waiting: int) -> None:
        self.limit = running + waiting
        self._slots = threading.Semaphore(running)
        self._inside = self._generating = 0
        self._lock = threading.Lock()

    @property
    def inside(self) -> int:
        """Calls let in whose take has not ended yet."""
        return self._inside

    @property
    def waiting(self) -> int:
        """Calls let in that wait for a slot (the running ones are counted by the engine)."""
        with self._lock:
            return self._inside - self._generating

    def enter(self) -> bool:
        with self._lock:
            if self._inside >= self.limit:
                return False
            self._inside += 1
            return True

    def start(self, cancel: threading.Event) -> bool:
        """Wait for a slot; False once `cancel` is set first."""
        while not self._slots.acquire(timeout=0.2):
            if cancel.is_set():
                return False
        with self._lock:
            self._generating += 1
        return True

    def finish(self) -> None:
        with self._lock:
            self._generating -= 1
        self._slots.release()

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1


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


async def _unless_gone(take: Take, request: Request, work: Awaitable):
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
        log.warning("speech stream ended early: %s", _from_studio_error(err).message)


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
        error = _from_studio_error(err)
        yield event({"type": "error", "error": {"message": error.message, "type": error.kind,
                                                "param": None, "code": error.code}})


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > 100:  # Python refuses past 4300 digits, with a ValueError read as "not JSON"
        raise ApiError(400, "A number in the request body has more than 100 digits.")
    return int(digits)


async def _read_json(request: Request) -> object:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 2**20} MB (a long reference "
                       "clip? 5-30 seconds is enough).", code="request_too_large")
    body = bytearray()
    try:
        async for part in request.stream():
            body += part
            if len(body) > MAX_BODY_BYTES:
                raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 2**20} MB.",
                               code="request_too_large")
    except ClientDisconnect:  # the caller left before sending it all: nobody to answer, nothing to log
        raise ApiError(499, "The client disconnected.") from None
    try:
        return json.loads(body, parse_int=_whole_number)
    except RecursionError:  # arrays nested 10^5 deep: JSON, but no request
        raise ApiError(400, "The request body is nested too deeply to be a speech request.") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "The request body is not valid JSON.") from None


def speech_routes(studio: Studio, gate: Gate | None = None, api_key: str = "",
                  throttle: Throttle | None = None) -> list[APIRoute]:
    """`throttle`: the studio's one count of wrong passwords and keys (shared with the page's middleware)."""
    gate, throttle = gate or Gate(1, 16), throttle or Throttle()

    def guard(request: Request) -> None:
        _guard(request, api_key, throttle)

    def ready() -> None:
        if studio.draining.is_set():  # SIGTERM (studio/drain.py): the takes running finish, no new ones start
            raise ApiError(503, "The studio is shutting down and takes no new takes; try again in a minute.",
                           "server_error", "shutting_down")
        if not studio.status().get("loaded"):
            raise ApiError(503, "The model is still loading; try again in a minute.", "server_error",
                           "model_not_ready")

    async def speech(request: Request):
        try:
            guard(request)
            ready()
            body = SpeechBody.read(await _read_json(request))
            synthesis = synthesis_request(body, studio)
        except ApiError as err:
            return err.response()
        except InvalidRequest as err:
            return ApiError(400, str(err)).response()
        if not gate.enter():
            return ApiError(429, "The server is busy: the queue is full. Try again shortly.", "rate_limit_error",
                            "queue_full").response()
        try:  # again, now that the call counts for the SIGTERM drain: its body may have come in after the signal
            ready()
        except ApiError as err:
            gate.leave()
            return err.response()
        take = Take(studio, synthesis, gate)
        try:
            first = await _unless_gone(take, request, take.next())  # errors before any audio get a proper status
        except Exception as err:  # noqa: BLE001
            take.stop()
            return _from_studio_error(err).response()
        except BaseException:  # cancelled: the take must not run on for nobody
            take.stop()
            raise
        if first is None:
            if take.cancel.is_set():  # the caller left; nobody reads this
                return Response(status_code=499)
            return ApiError(500, "The generation ended without audio.", "server_error").response()
        # A complete file unless the caller asked for a stream (stream_format given) or the format needs no
        # totals in its header: WAV and FLAC then come whole, with their sizes and a Content-Length.
        whole = "stream_format" not in body.model_fields_set and body.response_format in NEEDS_TOTALS
        encoder = AudioEncoder(body.response_format, body.speed, whole=whole)
        echoed = body.model if body.model and body.model.isascii() and body.model.isprintable() else None
        headers = {"X-Seed": str(synthesis.seed), "X-Model": (echoed or studio.model_id)[:200]}
        if body.stream_format == "sse":
            return _TakeResponse(take, _events(take, first, encoder), media_type="text/event-stream",
                                 headers=headers)
        if whole:
            try:
                data = await _unless_gone(take, request, _whole(take, first, encoder))
            except Exception as err:  # noqa: BLE001 - nothing is sent yet: the error gets its status
                return _from_studio_error(err).response()
            finally:
                take.stop()  # (ended already; a caller who left gets this answer unread)
            return Response(data, media_type=MEDIA_TYPES[body.response_format], headers=headers)
        return _TakeResponse(take, _audio(take, first, encoder), media_type=MEDIA_TYPES[body.response_format],
                             headers=headers)

    def models(request: Request):
        try:
            guard(request)
        except ApiError as err:
            return err.response()
        return {"object": "list", "data": [{"id": studio.model_id, "object": "model", "created": _STARTED,
                                            "owned_by": "higgs-voice-studio", "extensions": list(EXTENSIONS)}]}

    def voices(request: Request):
        try:
            guard(request)
        except ApiError as err:
            return err.response()
        return {"object": "list", "data": voice_list(studio)}

    def other_method(request: Request):  # in OpenAI's error shape, not FastAPI's {"detail": ...}
        return ApiError(405, f"{request.method} is not allowed here: send the request with POST.",
                        code="method_not_allowed").response()

    routes = [APIRoute("/v1/audio/speech", speech, methods=["POST"], **SPEECH_DOC),
              APIRoute("/v1/audio/speech", other_method, methods=["GET", "PUT", "PATCH", "DELETE"],
                       include_in_schema=False),
              APIRoute("/v1/models", models, methods=["GET"], summary="The model served (OpenAI's list shape)"),
              APIRoute("/v1/audio/voices", voices, methods=["GET"], summary="The voices a request may name")]
    def refusal(request: Request) -> Response | None:
        try:
            guard(request)
        except ApiError as err:
            return err.response()
        return None

    return [*routes, *docs_routes(routes, refusal)]

