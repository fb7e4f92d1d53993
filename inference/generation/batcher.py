"""The batcher: one thread that owns the model and generates every waiting chunk together.

Takes from all visitors are queued here as `Job`s. The thread admits them into the running batch between
decode steps (a take that arrives mid-batch starts at the next step instead of waiting for the batch to
end), steps all rows at once, and hands each row's frames and final codes back to its own caller. A row
that ends (stream end, its own length, its caller gone) leaves at once; a job whose prefill fails fails
alone; a failing batched step fails only the rows in that step, and the thread carries on.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future

import torch

from inference.contract.errors import Cancelled, StudioError
from inference.generation import heap
from inference.generation.decoding import Decoder, Job, Row

log = logging.getLogger(__name__)


class Batcher:
    def __init__(self, model, max_batch: int, window_s: float = 0.02, compile: bool | str = False,
                 exclusive_turns: bool = True) -> None:
        self.model = model
        self.max_batch = max_batch
        self.window_s = window_s  # an idle batcher waits this long for company before starting
        self._decoder = Decoder(model, max_batch, compile=compile)
        self._waiting: queue.Queue[tuple[Job, Future]] = queue.Queue()
        self._futures: dict[int, Future] = {}
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        # Held for every step and prefill. With `exclusive_turns` the engine's audio decodes take it too:
        # on a GPU, and on CPU with several threads per op, where OpenMP teams in two threads at once
        # oversubscribe the cores. With one thread per op on CPU (the engine's default) a decode runs on
        # another core beside the steps and gets the same bits as alone.
        self.device_lock = threading.Lock()
        self.exclusive_turns = exclusive_turns
        self._turns = 0  # threads waiting for the device between steps (see device_turn)
        self._turns_lock = threading.Lock()
        self.steps = 0  # decode steps run (a step advances every generating row by one frame)
        self.row_steps = 0  # frames generated, all rows together
        self.peak = 0  # the most rows that have generated together
        self.trims_heap = model.device.type == "cpu"  # see heap.py (a GPU's cache is not in the C heap)

    @contextlib.contextmanager
    def device_turn(self) -> Iterator[None]:
        """The device for work beside the batch (an audio decode, the watermark), between two steps. The
        batcher lets waiting turns in before its next step: a plain lock would let it take the device back
        step after step, and a stream's decode (its next chunk) would wait for the whole batch."""
        if not self.exclusive_turns:
            yield
            return
        with self._turns_lock:
            self._turns += 1
        try:
            self.device_lock.acquire()
        finally:
            with self._turns_lock:
                self._turns -= 1
        try:
            yield
        finally:
            self.device_lock.release()

    def _let_turns_in(self) -> None:
        for _ in range(200):  # bounded: at most ~20 ms, then the batch steps on
            if not self._turns:
                return
            time.sleep(0.0001)

    def stop_compiling(self) -> None:
        """Decode eagerly from now on (the compiled step failed to build)."""
        self._decoder.decode_eagerly()

    @property
    def batch_invariant(self) -> bool:
        return self._decoder.invariance is not None

    @property
    def generating(self) -> int:
        return len(self._decoder.rows)

    @property
    def waiting(self) -> int:
        return self._waiting.qsize()

    def submit(self, job: Job) -> Future:
        """Queue a job; the future gives the generated (delay-patterned) frames as a (T, K) tensor."""
        future: Future = Future()
        self._ensure_thread()
        self._waiting.put((job, future))
        return future

    def _ensure_thread(self) -> None:
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="higgs-batcher", daemon=True)
                self._thread.start()

    # ---- the loop -----------------------------------------------------------------------------
    def _loop(self) -> None:
        with torch.inference_mode():
            while True:
                if not self._decoder.rows:
                    first = self._waiting.get()  # idle: sleep until someone asks
                    self._admit(first)
                    time.sleep(self.window_s)
                self._admit_waiting()
                if self._decoder.rows:
                    self._step()

    def _admit_waiting(self) -> None:
        while len(self._decoder.rows) < self.max_batch:
            try:
                self._admit(self._waiting.get_nowait())
            except queue.Empty:
                return

    def _admit(self, item: tuple[Job, Future]) -> None:
        job, future = item
        if job.cancel.is_set() or not future.set_running_or_notify_cancel():
            future.done() or future.set_exception(Cancelled("The take was stopped before it started."))
            return
        try:
            self._let_turns_in()
            with self.device_lock:
                row = self._decoder.admit(job)
        except Exception as err:  # this job's prompt alone is at fault (or memory): the others carry on
            log.exception("a take failed before its first step")
            future.set_exception(err)
            return
        self._futures[id(row)] = future
        self.peak = max(self.peak, len(self._decoder.rows))

    def _step(self) -> None:
        finished, failed = [], []
        self._let_turns_in()
        try:
            with self.device_lock:
                finished, failed = self._decoder.sample()
                self.steps += 1
                self.row_steps += len(finished) + len(self._decoder.rows)
                self._decoder.forward()
        except Exception as err:
            log.exception("a batched step failed; its %d takes fail, the batcher carries on",
                          len(self._decoder.rows))
            failed = list(self._decoder.rows)
            self._decoder.remove(failed)
            for row in failed:
                self._futures.pop(id(row)).set_exception(err)
            failed = []
        for row in failed:  # the model gave this row no numbers (NaN): it fails, its neighbours carry on
            log.error("a take's logits were not numbers; it fails alone")
            self._futures.pop(id(row)).set_exception(
                StudioError("The model produced invalid numbers for this take. Try again or use another seed."))
        for row in finished:  # after the lock: a waiting caller may decode at once
            self._finish(row)
        if self.trims_heap and self.steps % heap.TRIM_EVERY == 0:
            heap.trim()

    def _finish(self, row: Row) -> None:
        future = self._futures.pop(id(row))
        if row.job.cancel.is_set():
            future.set_exception(Cancelled("The take was stopped."))
        else:
            future.set_result(torch.stack(row.frames))
