"""The one bridge from blocking work to an async door: the work runs on a thread with a cancel event, and
the event is set as soon as nobody waits for the result anymore.

Why: a server cancels the asyncio task serving a call whose caller left (or that a caller cancelled), but
a thread cannot be cancelled: a take on it would generate to its end for nobody. The engine checks the
event at every generation step, so setting it frees the model within a step.

- `run_cancellable(work)`: `work(cancel)` on a thread; its return value.
- `stream_cancellable(items)`: the items of `items(cancel)`, made on a thread of their own as fast as they
  come and handed over in order. Use it with `contextlib.aclosing` (or read it to the end): however the
  reader stops, the event is set and the work's cleanup (its `finally`) runs on its thread.

The event is set when the awaiting task is cancelled, when `is_gone()` turns true (polled every
POLL_S seconds; a door's own "is the caller still there" check) or, for a stream, when the reader stops.
A door may pass its own `cancel` event to set it from outside too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
POLL_S = 0.2
_END = object()


async def run_cancellable(work: Callable[[threading.Event], T], is_gone: Callable[[], bool] | None = None,
                          cancel: threading.Event | None = None) -> T:
    """`work(cancel)` on a thread; `cancel` is set once the caller has gone or the awaiting task is cancelled."""
    cancel = cancel or threading.Event()
    task = asyncio.ensure_future(asyncio.to_thread(work, cancel))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL_S if is_gone is not None else None)
            if done:
                return task.result()
            if is_gone():
                cancel.set()
    except asyncio.CancelledError:
        cancel.set()
        task.add_done_callback(_retrieve)  # its error (the engine's Cancelled) is expected: not "never retrieved"
        raise


async def stream_cancellable(items: Callable[[threading.Event], Iterator[T]],
                             is_gone: Callable[[], bool] | None = None,
                             cancel: threading.Event | None = None) -> AsyncIterator[T]:
    """The items of `items(cancel)`; an exception the work raises is raised here, in its place."""
    cancel = cancel or threading.Event()
    loop = asyncio.get_running_loop()
    handoff: asyncio.Queue = asyncio.Queue()

    def hand_over(item) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody reads anymore
            loop.call_soon_threadsafe(handoff.put_nowait, item)

    def produce() -> None:
        try:
            iterator = items(cancel)
            try:
                for item in iterator:  # (a for loop always starts the generator, so its `finally` runs)
                    hand_over(item)
                    if cancel.is_set():
                        break
            finally:
                if hasattr(iterator, "close"):
                    iterator.close()  # stopped early: the work's cleanup runs now, on this thread
        except BaseException as err:  # noqa: BLE001 - raised again on the reader's side
            hand_over(_Raised(err))
        finally:
            hand_over(_END)

    threading.Thread(target=produce, name="cancellable-stream", daemon=True).start()
    try:
        while True:
            try:
                item = await asyncio.wait_for(handoff.get(), POLL_S) if is_gone is not None else await handoff.get()
            except TimeoutError:
                if is_gone():
                    cancel.set()
                continue
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:  # done, failed, cancelled, or the reader stopped: the work stops at its next step
        cancel.set()


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _retrieve(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()
