"""What the studio's ASGI middlewares share (ui/auth.py, ui/body_limit.py, ui/upload_quota.py): the route a
request asks for, a body counted as it comes, and an answer in words."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any


def route_path(scope) -> str:
    """The request's path within the app (behind a proxy's --root-path, without it)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] or "/" if root and path.startswith(root) else path


async def count_body(app, scope, receive, send, admit: Callable[[int], bool],
                     refuse: Callable[[Any], Awaitable[None]]) -> None:
    """Run `app` with its request body counted as it comes: once `admit(bytes of a piece)` says no, the route is
    told its caller left, and `refuse(send)` is the answer (unless the route has begun answering)."""
    refused = started = False

    async def counted():
        nonlocal refused
        if refused:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request" and not admit(len(message.get("body", b""))):
            refused = True
            if not started:
                await refuse(send)
            return {"type": "http.disconnect"}  # the route stops reading: its caller "left"
        return message

    async def answer(message):
        nonlocal started
        if not refused:  # (once refused, the refusal was the answer)
            started = started or message["type"] == "http.response.start"
            await send(message)

    try:
        await app(scope, counted, answer)
    except Exception:  # the route's ClientDisconnect, once the refusal was the answer
        if not refused:
            raise


async def send_refusal(send, status: int, words: str) -> None:
    """An answer in words, as JSON ({"detail", "error"}: Gradio's and the page's readers both find them)."""
    body = json.dumps({"detail": words, "error": words}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
