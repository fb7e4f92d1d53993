"""A cap on request bodies for every route of the studio's server. Gradio's event routes read any JSON
body whole into memory (a 150 MB one was taken); a visitor's largest real one carries their saved voices
(browser storage, a few MB). Some routes cap their own bodies and answer in their own words: Gradio's
file routes (`max_file_size` at launch) and the OpenAI-compatible API under /v1/ (openai_api/routes.py).
"""

from __future__ import annotations

from .asgi import count_body, route_path, send_refusal

MAX_BODY_BYTES = 20 * 2**20
FILE_ROUTES = frozenset({"/gradio_api/upload", "/gradio_api/process_recording"})
OWN_CAP_PREFIX = "/v1/"


class BodyLimit:
    """ASGI middleware: 413 with a readable message for a body over `max_bytes`, from its Content-Length
    before reading it, or as soon as the bytes counted pass the cap (a chunked body has no length)."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        path = route_path(scope)
        if scope["type"] != "http" or path in FILE_ROUTES or path.startswith(OWN_CAP_PREFIX):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        def admit(size: int) -> bool:
            nonlocal seen
            seen += size
            return seen <= self.max_bytes

        await count_body(self.app, scope, receive, send, admit, self._refuse)

    async def _refuse(self, send) -> None:
        await send_refusal(send, 413, f"The request body is larger than {self.max_bytes // 2**20} MB. Send reference "
                                      "clips as files (the upload route), not inside the request.")
