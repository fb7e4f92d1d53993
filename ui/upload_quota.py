"""A ceiling on the disk that Gradio's upload folder may fill. Gradio checks each uploaded file's size
(`max_file_size`) but not how many come: one request of six 45 MB files wrote 270 MB in 0.6 s, on an open page
with no key needed, and the files stay for an hour (`delete_cache`). Past the ceiling an upload is refused in
words (507) until old files are deleted; takes, which need no upload, go on.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import anyio

from .asgi import count_body, route_path, send_refusal
from .body_limit import FILE_ROUTES


class UploadQuota:
    """ASGI middleware: an upload whose Content-Length would take `folder` past `max_bytes` is refused. The folder
    is measured at most every `recount_s`; uploads let in meanwhile are counted by their length."""

    def __init__(self, app, max_bytes: int, folder: str | Path, recount_s: float = 5.0) -> None:
        self.app, self.max_bytes, self.folder, self.recount_s = app, max_bytes, Path(folder), recount_s
        self._used, self._measured_at = 0, float("-inf")
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") == "POST" and route_path(scope) in FILE_ROUTES:
            length = dict(scope.get("headers") or []).get(b"content-length", b"")
            coming = int(length) if length.isdigit() else 0
            if not await anyio.to_thread.run_sync(self._admit, coming):
                await self._refuse(send)
                return
            if not length.isdigit():  # chunked: no length to count first, so its bytes count as they come
                await count_body(self.app, scope, receive, send, self._charge, self._refuse)
                return
        await self.app(scope, receive, send)

    def _charge(self, size: int) -> bool:
        with self._lock:
            if self._used + size > self.max_bytes:
                return False
            self._used += size
            return True

    def _admit(self, coming: int) -> bool:
        with self._lock:
            if time.monotonic() - self._measured_at > self.recount_s:
                self._used, self._measured_at = folder_bytes(self.folder), time.monotonic()
        return self._charge(coming)

    async def _refuse(self, send) -> None:
        await send_refusal(send, 507, f"The studio's room for uploads is full ({self.max_bytes // 2**20} MB of recent "
                                      "files). Try again in a while: uploads are deleted after an hour.")


def folder_bytes(folder: Path) -> int:
    """The size of the files under `folder` (0 when it does not exist yet)."""
    total, pending = 0, [folder]
    while pending:
        try:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:  # deleted meanwhile (delete_cache)
                        continue
        except OSError:
            continue
    return total
