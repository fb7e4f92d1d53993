"""Reading a request's JSON body with its caps: 20 MB, numbers of at most 100 digits, nesting Python can parse."""

from __future__ import annotations

import json

from fastapi import Request
from starlette.requests import ClientDisconnect

from .errors import ApiError

MAX_BODY_BYTES = 20 * 2**20  # room for a 30 s reference clip as base64 wav


def _whole_number(digits: str) -> int:
    if len(digits.lstrip("-")) > 100:  # Python refuses past 4300 digits, with a ValueError read as "not JSON"
        raise ApiError(400, "A number in the request body has more than 100 digits.")
    return int(digits)


async def read_json(request: Request) -> object:
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
