"""RunPod serverless entry point: `python -m serverless.handler` (add `--rp_serve_api` to test locally).

The engine is built and warmed once per worker (cold start); every job then goes through `Worker.run`,
a generator, so long takes can stream partial results. A job never crashes the worker: each problem
comes back as `{"error": "<a sentence>"}` and the next job starts clean.

Jobs run concurrently, up to HVS_MAX_BATCH at once (RunPod's concurrency modifier), so one worker's
engine batches several jobs' takes together.

Settings (settings.py, read once here): HVS_MODEL (Hub id, local path or tiny-random), HVS_DEVICE, HVS_DTYPE,
HVS_MAX_BATCH, HVS_WARMUP (1/0), HVS_VOICES_DIR, HVS_OPENAI_VOICES, HVS_DRAIN_S, the reference limits and the HVS_S3_* variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

from inference.contract.errors import StudioError
from settings import SettingError, Settings
from studio.cancel import stream_cancellable
from studio.drain import Drain
from studio.voices import resolver_for
from wire.fetch import FetchLimits

from .storage import S3Config, Storage
from .worker import Worker

log = logging.getLogger("serverless")


_worker: Worker | None = None


async def handler(job: dict[str, Any]) -> AsyncIterator[dict]:
    """RunPod's handler: a generator, so `/stream` gets partial results and `/runsync` the list of them.
    Async, with the work on a thread, so concurrent jobs reach the engine's batcher together."""
    worker = await asyncio.to_thread(get_worker)
    _drain_on_sigterm(worker)  # here, in the event loop's (main) thread
    worker.jobs += 1
    try:
        # however the job's task ends (cancelled, or its consumer closes it), its take stops, freeing its row
        async with contextlib.aclosing(stream_cancellable(lambda cancel: worker.run(job, cancel))) as outputs:
            async for item in outputs:
                yield item
    finally:
        worker.jobs -= 1


def concurrency(current: int) -> int:
    """RunPod's concurrency modifier: as many jobs at once as the engine batches together."""
    worker = get_worker()
    return getattr(worker.engine, "max_batch", 1) if worker.engine is not None else 1


def _drain_on_sigterm(worker: Worker) -> None:
    """Bound the SDK's own SIGTERM handling (it stops taking jobs and waits for the running ones, without
    limit) by HVS_DRAIN_S (default 30 s): past that, with a job still running, the worker exits with code 1.
    Installed from the first job, in the main thread, on top of the handler the SDK (or its local API
    server) installed; see studio/drain.py."""
    if worker.drain_installed or threading.current_thread() is not threading.main_thread():
        return
    Drain(worker.draining, busy=lambda: worker.jobs > 0, grace_s=worker.drain_s, work="job").install(background=True)
    worker.drain_installed = True


def get_worker() -> Worker:
    global _worker
    if _worker is None:
        _worker = build_worker().start()  # warms up unless HVS_WARMUP=0
    return _worker


def build_worker(env: Mapping[str, str] | None = None) -> Worker:
    """The worker the environment (`env`, default: this process's) describes. Settings that cannot work (a bad
    variable, a GPU that is not there) give a worker that answers every job with the reason, not a crash loop."""
    from backends import build_engine
    from inference.scoring.take_check import SpeakerEncoder, TakeChecker
    from inference.scoring.transcribe import Transcriber

    try:
        settings = Settings.from_env(env)
    except SettingError as err:
        log.error("the worker is misconfigured: %s", err)
        return Worker(None, load_error=f"the worker is misconfigured: {err}")
    storage = Storage(S3Config.from_settings(settings))
    try:
        voices = resolver_for(settings)
        engine = build_engine(backend="local", model_id=settings.model, device=settings.device,
                              dtype=settings.dtype, max_batch=settings.max_batch, watermark=settings.watermark,
                              cpu_threads=settings.cpu_threads, trained_dir=settings.trained_root,
                              max_adapters=settings.max_adapters)
    except StudioError as err:
        log.error("the worker is misconfigured: %s", err)
        return Worker(None, storage, load_error=f"the worker is misconfigured: {err}")
    # Scoring models load on the first job that asks for a check (`check`, or `candidates` above 1).
    checker = TakeChecker(Transcriber(settings.asr_model), SpeakerEncoder(settings.speaker_model))
    limits = FetchLimits(settings.max_reference_bytes, settings.url_timeout_s, settings.url_allow_private)
    return Worker(engine, storage, voices, checker=checker, limits=limits,
                  drain_s=settings.drain_s, warm_up_at_start=settings.warmup)


def run_test_input(raw: str) -> int:
    """`--test_input '{"input": {...}}'`: one job, its outputs as JSON on stdout. The SDK's own test mode does
    not iterate generator handlers, so it is done here. Exit code 1 when the job failed."""
    try:
        job = json.loads(raw)
    except (ValueError, RecursionError):
        job = None
    if not isinstance(job, dict):
        print(json.dumps([{"error": '--test_input takes a JSON object such as \'{"input": {"text": "Hello."}}\'.',
                           "error_type": "invalid_request"}], indent=2))
        return 1
    outputs = list(get_worker().run({"id": job.get("id", "local_test"), "input": job.get("input")}))
    print(json.dumps(outputs, indent=2))
    return 1 if any("error" in item for item in outputs) else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        level = Settings.from_env().log_level
    except SettingError:  # the worker reports the bad setting with every job
        level = "INFO"
    logging.basicConfig(level=level, format="%(levelname)s %(name)s %(message)s")
    for i, arg in enumerate(argv):
        if arg == "--test_input" and i + 1 < len(argv):
            return run_test_input(argv[i + 1])
        if arg.startswith("--test_input="):
            return run_test_input(arg.split("=", 1)[1])
    # The SDK logs every job's output at DEBUG (its default): presigned URLs and base64 audio. Not by default here.
    os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")  # the SDK's own variable, set for it (not read here)
    import runpod

    get_worker()  # cold start: load and warm before taking jobs
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": True,
                             "concurrency_modifier": concurrency})
    return 0


if __name__ == "__main__":
    sys.exit(main())
