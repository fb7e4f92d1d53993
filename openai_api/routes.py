"""The HTTP side: POST /v1/audio/speech, GET /v1/models, GET /v1/audio/voices on the studio's own server.

Errors come in OpenAI's shape (errors.py): 400 bad input, 401 bad or missing key, 413 body too large, 429 queue
full (or too many wrong keys), 503 model not ready or shutting down. A take streams while it is generated,
except a WAV or FLAC asked for without a `stream_format`: that comes as one complete file (its headers carry the
totals). A client that goes away stops it (take_stream.py).
"""

from __future__ import annotations

import time

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from inference.contract.errors import InvalidRequest
from inference.contract.request import SynthesisRequest
from inference.contract.result import StreamChunk
from studio.access import Access, Caller, login_cookie
from studio.service import Studio
from studio.throttle import Throttle

from .body import read_json
from .docs import SPEECH_DOC, docs_routes
from .errors import ApiError, from_studio_error
from .gate import Gate
from .speech import EXTENSIONS, SpeechBody, synthesis_request, voice_list
from .take_stream import Take, respond, unless_gone

API_KEY_ENV = "HVS_API_KEY"
_STARTED = int(time.time())


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


# ---- the steps of a speech call ----------------------------------------------------------------
def _ready(studio: Studio) -> None:
    if studio.draining.is_set():  # SIGTERM (studio/drain.py): the takes running finish, no new ones start
        raise ApiError(503, "The studio is shutting down and takes no new takes; try again in a minute.",
                       "server_error", "shutting_down")
    if not studio.status().get("loaded"):
        raise ApiError(503, "The model is still loading; try again in a minute.", "server_error",
                       "model_not_ready")


async def _read_request(request: Request, studio: Studio) -> tuple[SpeechBody, SynthesisRequest]:
    """The body, read and checked, and the studio's request it asks for (InvalidRequest when it is wrong)."""
    _ready(studio)
    body = SpeechBody.read(await read_json(request))
    return body, synthesis_request(body, studio)


def _enter(gate: Gate, studio: Studio) -> None:
    """A place in the queue, or 429 when it is full."""
    if not gate.enter():
        raise ApiError(429, "The server is busy: the queue is full. Try again shortly.", "rate_limit_error",
                       "queue_full")
    try:  # again, now that the call counts for the SIGTERM drain: its body may have come in after the signal
        _ready(studio)
    except ApiError:
        gate.leave()
        raise


async def _first_chunk(take: Take, request: Request) -> StreamChunk | None:
    """The take's first chunk, so that errors before any audio get a proper status; None once the caller left."""
    try:
        first = await unless_gone(take, request, take.next())
    except Exception as err:  # noqa: BLE001
        take.stop()
        raise from_studio_error(err) from None
    except BaseException:  # cancelled: the take must not run on for nobody
        take.stop()
        raise
    if first is None and not take.cancel.is_set():
        raise ApiError(500, "The generation ended without audio.", "server_error")
    return first


def _headers(body: SpeechBody, synthesis: SynthesisRequest, studio: Studio) -> dict[str, str]:
    echoed = body.model if body.model and body.model.isascii() and body.model.isprintable() else None
    return {"X-Seed": str(synthesis.seed), "X-Model": (echoed or studio.model_id)[:200]}


def speech_routes(studio: Studio, gate: Gate | None = None, api_key: str = "",
                  throttle: Throttle | None = None) -> list[APIRoute]:
    """`throttle`: the studio's one count of wrong passwords and keys (shared with the page's middleware)."""
    gate, throttle = gate or Gate(1, 16), throttle or Throttle()

    def refusal(request: Request) -> Response | None:
        try:
            _guard(request, api_key, throttle)
        except ApiError as err:
            return err.response()
        return None

    async def speech(request: Request):
        try:
            _guard(request, api_key, throttle)
            body, synthesis = await _read_request(request, studio)
            _enter(gate, studio)
            take = Take(studio, synthesis, gate)
            first = await _first_chunk(take, request)
        except ApiError as err:
            return err.response()
        except InvalidRequest as err:
            return ApiError(400, str(err)).response()
        if first is None:  # the caller left; nobody reads this
            return Response(status_code=499)
        return await respond(take, first, body, _headers(body, synthesis, studio), request)

    def models(request: Request):
        return refusal(request) or {
            "object": "list", "data": [{"id": studio.model_id, "object": "model", "created": _STARTED,
                                        "owned_by": "higgs-voice-studio", "extensions": list(EXTENSIONS)}]}

    def voices(request: Request):
        return refusal(request) or {"object": "list", "data": voice_list(studio)}

    def other_method(request: Request):  # in OpenAI's error shape, not FastAPI's {"detail": ...}
        return ApiError(405, f"{request.method} is not allowed here: send the request with POST.",
                        code="method_not_allowed").response()

    routes = [APIRoute("/v1/audio/speech", speech, methods=["POST"], **SPEECH_DOC),
              APIRoute("/v1/audio/speech", other_method, methods=["GET", "PUT", "PATCH", "DELETE"],
                       include_in_schema=False),
              APIRoute("/v1/models", models, methods=["GET"], summary="The model served (OpenAI's list shape)"),
              APIRoute("/v1/audio/voices", voices, methods=["GET"], summary="The voices a request may name")]
    return [*routes, *docs_routes(routes, refusal)]
