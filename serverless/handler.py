"""RunPod serverless entry point: `python -m serverless.handler` (add `--rp_serve_api` to test locally).

The engine is built and warmed once per worker (cold start); every job then goes through `Worker.run`,
a generator, so long takes can stream partial results. A job never crashes the worker: each problem
comes back as `{"error": "<a sentence>"}` and the next job starts clean.

Jobs run concurrently, up to HVS_MAX_BATCH at once (RunPod's concurrency modifier), so one worker's
engine batches several jobs' takes together.

Environment: HVS_MODEL (Hub id, local path or tiny-random), HVS_DEVICE, HVS_DTYPE, HVS_MAX_BATCH,
HVS_WARMUP (1/0), HVS_VOICES_DIR, and the HVS_S3_* variables read by serverless/storage.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import asdict
from typing import Any

from inference.audio import subtitles
from inference.contract.errors import InvalidRequest, StudioError
from studio.cancel import stream_cancellable
from studio.drain import Drain
from studio.service import Studio
from studio.voice_library import VoiceLibrary

from .job import (
    OUTPUT_FORMATS,
    ParsedJob,
    check_health_job,
    detect_job_audio,
    is_detect_job,
    is_health_job,
    parse_job,
)
from .storage import Storage, inline

log = logging.getLogger("serverless")

_SAFE_KEY = re.compile(r"[^A-Za-z0-9_.-]")
STREAM_OUTPUT_LIMIT = 16_000_000  # base64 characters in one streamed job's output, chunks and final together
INLINE_OUTPUT_LIMIT = 16_000_000  # base64 characters in one plain result: RunPod drops job outputs over 20 MB


class Worker:
    """One engine, one voice library, one storage; turns job dicts into output dicts."""

    def __init__(self, engine, storage: Storage | None = None, voices: VoiceLibrary | None = None,
                 load_error: str | None = None, checker=None) -> None:
        self.engine = engine  # None when the settings could not even build one (then load_error says why)
        self.storage = storage or Storage(None)
        self.voices = voices or VoiceLibrary()
        self.load_error = load_error
        self.draining = threading.Event()  # set on SIGTERM: new jobs are refused
        self.drain_installed = False
        self.jobs = 0  # jobs under way through the handler: the SIGTERM drain waits for them
        self.checker = checker  # inference.take_check.TakeChecker, for `check` and `candidates`
        # the service every job goes through (refusing new work once `draining` is set, like the studio)
        self.studio = Studio(engine, voices=self.voices, checker=checker, draining=self.draining)

    def start(self, warm_up: bool = True) -> Worker:
        """Load (and warm) the model; a failure is kept and reported by every job instead of crash-looping."""
        if self.load_error:
            return self
        try:
            self.engine.load()
            if warm_up:
                self.engine.warm_up()
        except Exception as err:  # e.g. out of GPU memory while warming up: report it, do not crash-loop
            self.load_error = str(err) if isinstance(err, StudioError) else f"{type(err).__name__}: {err}"[:500]
            log.error("the model could not be loaded: %s", self.load_error)
        return self

    def run(self, job: dict, cancel: threading.Event | None = None) -> Iterator[dict]:
        """The job's outputs; setting `cancel` stops its take (the handler sets it when the job is cancelled)."""
        job_id = str(job.get("id") or "job")
        started = time.perf_counter()
        try:
            job_input = job.get("input")
            if is_health_job(job_input):
                check_health_job(job_input)
                yield self.health()
                return
            if is_detect_job(job_input):  # needs the watermark detector only, not the model
                from inference.audio.watermark import detect

                yield {"type": "detect", **detect(detect_job_audio(job_input))}
                return
            if self.load_error:
                raise StudioError(f"The worker's model is not available: {self.load_error}")
            if self.draining.is_set():
                raise StudioError("The worker is shutting down; send the job again.")
            parsed = parse_job(job_input, self.voices)
            if parsed.options.prompt_only:
                prompt = self.studio.render_prompt(parsed.request)
                frames = getattr(prompt, "audio_frames", getattr(prompt, "reference_frames", 0))
                yield {"type": "prompt", "prompt": prompt.rendered, "audio_frames": frames,
                       "warnings": prompt.warnings}
            elif parsed.options.stream:
                yield from self._stream(parsed, job_id, cancel)
            else:
                takes = self.studio.make_takes(parsed.request, cancel, check=parsed.options.check)
                yield self._deliver(takes.result, parsed, job_id, takes)
            log.info("job %s done in %.2f s", job_id, time.perf_counter() - started)
        except InvalidRequest as err:
            log.info("job %s rejected: %s", job_id, err)
            yield {"error": str(err), "error_type": "invalid_request"}
        except StudioError as err:
            log.warning("job %s failed: %s", job_id, err)
            yield {"error": str(err), "error_type": "studio_error"}
        except Exception as err:  # a bug must not take the worker down with it
            log.exception("job %s crashed", job_id)
            yield {"error": f"The worker hit an internal error ({type(err).__name__}); the job failed, "
                            "the worker is still running.", "error_type": "internal"}

    def health(self) -> dict:
        from runpod.version import __version__ as runpod_version

        return {
            "type": "health",
            "status": "error" if self.load_error else "draining" if self.draining.is_set() else "ok",
            "load_error": self.load_error,
            "engine": self.studio.status() if self.engine else {"loaded": False},
            "storage": self.storage.describe(),
            "voices": self.voices.names(),
            "output_formats": list(OUTPUT_FORMATS),
            "runpod": runpod_version,
        }

    def _stream(self, parsed: ParsedJob, job_id: str, cancel: threading.Event | None = None) -> Iterator[dict]:
        from inference.audio.codec import encode
        from studio.best_of import Takes, require_checker, score_take

        if parsed.request.candidates > 1:
            raise InvalidRequest("stream cannot be combined with candidates above 1: the best take is only known "
                                 "once all are made. Leave out stream, or ask for one candidate.")
        if parsed.options.check:
            require_checker(self.checker)  # before generating, not after
        sent_s, sent_chars, index = 0.0, 0, 0
        for chunk in self.studio.stream(parsed.request, cancel):
            if len(chunk.waveform):
                item = _chunk_output(index, sent_s, encode(chunk.waveform, "wav", chunk.sample_rate),
                                     len(chunk.waveform) / chunk.sample_rate, chunk.sample_rate)
                item.update(part=chunk.part, parts=chunk.parts)  # "part 2 of 5": dialogue turn or long-text chunk
                sent_s += item["duration_s"]
                sent_chars += len(item["audio_base64"])
                index += 1
                yield item
            if chunk.result is not None:
                scores = [score_take(self.checker, parsed.request, chunk.result)] if parsed.options.check else [None]
                final = self._deliver(chunk.result, parsed, job_id, Takes(chunk.result, scores), fit_inline=False)
                # RunPod caps a job's aggregated output (~20 MB): the chunks already hold the whole take.
                if final.get("audio_base64") and sent_chars + len(final["audio_base64"]) > STREAM_OUTPUT_LIMIT:
                    del final["audio_base64"]
                    final["audio_in_chunks"] = True
                    final["warnings"].append("The take is too large to repeat after its streamed chunks (RunPod "
                                             "caps a job's output at 20 MB): join the chunks, or configure S3.")
                yield final
                return

    def _deliver(self, result, parsed: ParsedJob, job_id: str, takes=None, fit_inline: bool = True) -> dict:
        """The take stored in S3, or inline as base64. An inline take must fit under RunPod's output cap
        (a streamed one already went out in its chunks): WAV that would not fit goes as MP3, and a take
        too long even for that is refused with what to do instead."""
        from inference.audio.codec import encode

        fmt = parsed.options.output
        audio = encode(result.waveform, fmt, result.sample_rate)
        key = f"{parsed.options.s3_prefix}{_SAFE_KEY.sub('_', job_id)}.{fmt}"
        stored, warnings = self.storage.deliver(audio, parsed.options.content_type, key)
        if fit_inline and len(stored.get("audio_base64", "")) > INLINE_OUTPUT_LIMIT and fmt != "mp3":
            fmt = "mp3"
            audio = encode(result.waveform, fmt, result.sample_rate)
            stored = inline(audio)
            warnings.append("As WAV the take is over RunPod's 20 MB output cap, so it is returned as MP3 "
                            "(configure S3 for WAV).")
        if fit_inline and len(stored.get("audio_base64", "")) > INLINE_OUTPUT_LIMIT:
            raise StudioError(f"The take ({result.duration_s:.0f} s of audio) is too large to return through "
                              "RunPod, whose job output is capped at 20 MB: configure S3 (HVS_S3_BUCKET) or send "
                              'the job with "stream": true.')
        t = result.timings
        return {
            "type": "result",
            **stored,
            "format": fmt,
            "content_type": OUTPUT_FORMATS[fmt],
            "bytes": len(audio),
            "sample_rate": result.sample_rate,
            "duration_s": round(result.duration_s, 3),
            "seed": result.seed,
            "model": result.model_id,
            "timings": {
                "load_s": round(t.load_s, 3), "reference_s": round(t.reference_s, 3),
                "generate_s": round(t.generate_s, 3), "decode_s": round(t.decode_s, 3),
                "audio_s": round(t.audio_s, 3), "total_s": round(t.total_s, 3),
                "real_time_factor": round(t.real_time_factor, 3),
            },
            "warnings": [*result.warnings, *warnings],
            "segments": [asdict(segment) for segment in result.segments],
            "subtitles": {fmt: subtitles.render(result.segments, fmt) for fmt in subtitles.FORMATS},
            **({"take_check": takes.report()} if takes is not None and takes.score is not None else {}),
        }


def _chunk_output(index: int, start_s: float, wav: bytes, duration_s: float, sample_rate: int) -> dict:
    import base64

    return {"type": "chunk", "index": index, "start_s": round(start_s, 3), "duration_s": round(duration_s, 3),
            "sample_rate": sample_rate, "format": "wav", "audio_base64": base64.b64encode(wav).decode("ascii")}


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
    Drain(worker.draining, busy=lambda: worker.jobs > 0, work="job").install(background=True)
    worker.drain_installed = True


def get_worker() -> Worker:
    global _worker
    if _worker is None:
        _worker = build_worker(os.environ).start(warm_up=os.environ.get("HVS_WARMUP", "1") != "0")
    return _worker


def build_worker(env: Mapping[str, str]) -> Worker:
    """The worker the environment describes. Settings that cannot work (a GPU that is not there, an
    S3 variable out of range) give a worker that answers every job with the reason, not a crash loop."""
    from backends import build_engine
    from inference.audio.watermark import enabled_in
    from inference.scoring.take_check import SpeakerEncoder, TakeChecker
    from inference.scoring.transcribe import DEFAULT_ASR_MODEL, Transcriber

    problems, storage, engine = [], None, None
    try:
        storage = Storage.from_env(env)
    except ValueError as err:
        problems.append(str(err))
    try:
        engine = build_engine(backend="local", model_id=env.get("HVS_MODEL") or None,
                              device=env.get("HVS_DEVICE", "auto"), dtype=env.get("HVS_DTYPE", "auto"),
                              max_batch=env.get("HVS_MAX_BATCH") or None, watermark=enabled_in(env))
    except StudioError as err:
        problems.append(str(err))
    if problems:
        log.error("the worker is misconfigured: %s", " ".join(problems))
        return Worker(None, storage, load_error=f"the worker is misconfigured: {' '.join(problems)}")
    # Scoring models load on the first job that asks for a check (`check`, or `candidates` above 1).
    checker = TakeChecker(Transcriber(env.get("HVS_ASR_MODEL", DEFAULT_ASR_MODEL)),
                          SpeakerEncoder(env.get("HVS_SPEAKER_MODEL") or None))
    return Worker(engine, storage, checker=checker)


def run_test_input(raw: str) -> int:
    """`--test_input '{"input": {...}}'`: one job, its outputs as JSON on stdout. The SDK's own test mode does
    not iterate generator handlers, so it is done here. Exit code 1 when the job failed."""
    job = json.loads(raw)
    outputs = list(get_worker().run({"id": job.get("id", "local_test"), "input": job.get("input")}))
    print(json.dumps(outputs, indent=2))
    return 1 if any("error" in item for item in outputs) else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=os.environ.get("HVS_LOG_LEVEL", "INFO"), format="%(levelname)s %(name)s %(message)s")
    for i, arg in enumerate(argv):
        if arg == "--test_input" and i + 1 < len(argv):
            return run_test_input(argv[i + 1])
        if arg.startswith("--test_input="):
            return run_test_input(arg.split("=", 1)[1])
    # The SDK logs every job's output at DEBUG (its default): presigned URLs and base64 audio. Not by default here.
    os.environ.setdefault("RUNPOD_LOG_LEVEL", "INFO")
    import runpod

    get_worker()  # cold start: load and warm before taking jobs
    runpod.serverless.start({"handler": handler, "return_aggregate_stream": True,
                             "concurrency_modifier": concurrency})
    return 0


if __name__ == "__main__":
    sys.exit(main())
