"""Stop a take whose caller has gone: a gradio_client call that disconnects or is cancelled.

Gradio runs a plain function to its end even when nobody waits for the answer anymore: `job.cancel()`
cancels only the asyncio task awaiting it, and a dropped connection only marks the queue's event as
no longer alive. Here the take runs on a thread with a cancel event that is set in both cases, so the
engine stops within a generation step and the model is free for the next caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from gradio.context import LocalContext

T = TypeVar("T")
POLL_S = 0.2


async def run_while_caller_waits(work: Callable[[threading.Event], T]) -> T:
    """`work(cancel)` on a thread; `cancel` is set once the caller disconnects or cancels."""
    cancel = threading.Event()
    return await _on_thread_while_caller_waits(lambda: work(cancel), cancel)


async def stream_while_caller_waits(items: Callable[[threading.Event], Iterator[T]]) -> AsyncIterator[T]:
    """The items of `items(cancel)`, each pulled on a thread; `cancel` is set once the caller disconnects,
    cancels or stops reading. (Gradio cancels a plain generator only between its items: one waiting for a
    place in the batch, with nothing to yield yet, ran on in full.)"""
    cancel = threading.Event()
    iterator, end = items(cancel), object()
    try:
        while (item := await _on_thread_while_caller_waits(lambda: next(iterator, end), cancel)) is not end:
            yield item
    finally:
        cancel.set()
        with contextlib.suppress(ValueError):  # ValueError: still running on its thread, where the event stops it
            iterator.close()  # (the caller stopped reading: the take's cleanup runs now, not when collected)


async def _on_thread_while_caller_waits(call: Callable[[], T], cancel: threading.Event) -> T:
    event = _queue_event()
    task = asyncio.ensure_future(asyncio.to_thread(call))
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
