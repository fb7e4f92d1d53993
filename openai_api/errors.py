"""Errors in OpenAI's shape, {"error": {"message", "type", "param", "code"}}, and the studio's errors mapped to
them (400 bad input, 500 anything else, in words a person can act on)."""

from __future__ import annotations

import logging

from fastapi.responses import JSONResponse

from inference.contract.errors import InvalidRequest, StudioError

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code, self.param = status, message, kind, code, param
        self.headers = headers

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def from_studio_error(err: Exception) -> ApiError:
    if isinstance(err, InvalidRequest):
        return ApiError(400, str(err))
    if isinstance(err, StudioError):
        return ApiError(500, str(err), "server_error")
    log.exception("unexpected failure in /v1/audio/speech")
    return ApiError(500, f"Something went wrong on the server ({type(err).__name__}). Please try again.",
                    "server_error")
