"""Stop a take whose caller has gone: a gradio_client call that disconnects or is cancelled.

Gradio runs a plain function to its end even when nobody waits for the answer anymore: `job.cancel()`
cancels only the asyncio task awaiting it, and a dropped connection only marks the queue's event as
no longer alive. The take runs through the studio's cancel bridge (studio/cancel.py), which sets its
cancel event in both cases; what is Gradio's own here is how to tell that the caller's connection dropped.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from gradio.context import LocalContext

from studio.cancel import run_cancellable, stream_cancellable

T = TypeVar("T")


async def run_while_caller_waits(work: Callable[[threading.Event], T]) -> T:
    """`work(cancel)` on a thread; `cancel` is set once the caller disconnects or cancels."""
    return await run_cancellable(work, is_gone=caller_gone())


def stream_while_caller_waits(items: Callable[[threading.Event], Iterator[T]]) -> AsyncIterator[T]:
    """The items of `items(cancel)`; `cancel` is set once the caller disconnects, cancels or stops reading.
    (Gradio cancels a plain generator only between its items: one waiting for a place in the batch, with
    nothing to yield yet, ran on in full.) Read it inside `contextlib.aclosing`."""
    return stream_cancellable(items, is_gone=caller_gone())


def caller_gone() -> Callable[[], bool]:
    """For the call being served (read now, in its context): whether its client's connection has dropped."""
    event = _queue_event()
    return lambda: event is not None and not event.alive


def _queue_event():
    """Gradio's queue event for the call being served (None outside the queue)."""
    blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    queue = getattr(blocks, "_queue", None)
    return queue.event_ids_to_events.get(event_id) if queue is not None and event_id else None
