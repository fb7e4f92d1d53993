"""A cap on request bodies for every route of the studio's server. Gradio's event routes read any JSON
body whole into memory (a 150 MB one was taken); a visitor's largest real one carries their saved voices
(browser storage, a few MB). Some routes cap their own bodies and answer in their own words: Gradio's
file routes (`max_file_size` at launch) and the OpenAI-compatible API under /v1/ (openai_api/routes.py).
"""

from __future__ import annotations

import json

MAX_BODY_BYTES = 20 * 2**20
FILE_ROUTES = frozenset({"/gradio_api/upload", "/gradio_api/process_recording"})
OWN_CAP_PREFIX = "/v1/"


class BodyLimit:
    """ASGI middleware: 413 with a readable message for a body over `max_bytes`, from its Content-Length
    before reading it, or as soon as the bytes counted pass the cap (a chunked body has no length)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        path = _path(scope)
        if scope["type"] != "http" or path in FILE_ROUTES or path.startswith(OWN_CAP_PREFIX):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen, refused, started = 0, False, False

        async def counted():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}  # the route stops reading: its caller "left"
            return message

        async def answer(message):
            nonlocal started
            if refused:
                return  # the 413 was the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, answer)

    async def _refuse(self, send) -> None:
        words = (f"The request body is larger than {self.max_bytes // 2**20} MB. Send reference clips as "
                 "files (the upload route), not inside the request.")
        body = json.dumps({"detail": words, "error": words}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _path(scope) -> str:
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] or "/" if root and path.startswith(root) else path
