"""Stop a take whose caller has gone: a gradio_client call that disconnects or is cancelled.

Gradio runs a plain function to its end even when nobody waits for the answer anymore: `job.cancel()`
cancels only the asyncio task awaiting it, and a dropped connection only marks the queue's event as
no longer alive. Here the take runs on a thread with a cancel event that is set in both cases, so the
engine stops within a generation step and the model is free for the next caller.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from gradio.context import LocalContext

T = TypeVar("T")
POLL_S = 0.2


async def run_while_caller_waits(work: Callable[[threading.Event], T]) -> T:
    """`work(cancel)` on a thread; `cancel` is set once the caller disconnects or cancels."""
    cancel = threading.Event()
    event = _queue_event()
    task = asyncio.ensure_future(asyncio.to_thread(work, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL_S)
            if done:
                return task.result()
            if event is not None and not event.alive:  # the client's connection dropped
                cancel.set()
    except asyncio.CancelledError:  # job.cancel(): Gradio cancelled the task awaiting this call
        cancel.set()
        task.add_done_callback(_retrieve)  # its Cancelled error is expected: not "never retrieved"
        raise


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()


def _queue_event():
    """Gradio's queue event for the call being served (None outside the queue)."""
    blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    queue = getattr(blocks, "_queue", None)
    return queue.event_ids_to_events.get(event_id) if queue is not None and event_id else None
