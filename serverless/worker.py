"""The worker's jobs: a RunPod job's input in (serverless/job.py, wire/runpod_job.py), its outputs back
(wire/runpod_output.py), through the studio service like every other door. A job never crashes the worker:
each problem comes back as `{"error": "<a sentence>"}` and the next job starts clean."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections.abc import Iterator

from inference.audio import subtitles
from inference.contract.errors import InvalidRequest, StudioError
from studio.revise import recipe_object
from studio.service import Studio
from studio.voices import VoiceResolver
from wire.fetch import FetchLimits
from wire.runpod_job import OUTPUT_FORMATS, TakeInput
from wire.runpod_output import (
    ChunkOutput,
    DetectOutput,
    ErrorOutput,
    HealthOutput,
    PromptOutput,
    ResultOutput,
    TimingsOutput,
)

from .job import (
    ParsedJob,
    check_health_job,
    detect_job_audio,
    is_detect_job,
    is_health_job,
    is_revise_job,
    parse_job,
    parse_revise_job,
)
from .output_budget import INLINE_LIMIT, STREAM_LIMIT, capped, check_returnable
from .storage import Storage, inline

log = logging.getLogger("serverless")

_SAFE_KEY = re.compile(r"[^A-Za-z0-9_.-]")
# RunPod drops job outputs over 20 MB: the limits are serverless/output_budget.py's (named here for the tests)
STREAM_OUTPUT_LIMIT = STREAM_LIMIT  # base64 characters in one streamed job's output, chunks and final together
INLINE_OUTPUT_LIMIT = INLINE_LIMIT  # base64 characters in one plain result


class Worker:
    """One engine, one voice library, one storage; turns job inputs (wire/runpod_job.py) into outputs
    (wire/runpod_output.py), as JSON."""

    def __init__(self, engine, storage: Storage | None = None, voices: VoiceResolver | None = None,
                 load_error: str | None = None, checker=None, limits: FetchLimits | None = None,
                 drain_s: float = 30.0, warm_up_at_start: bool = True) -> None:
        self.engine = engine  # None when the settings could not even build one (then load_error says why)
        self.storage = storage or Storage(None)
        self.voices = voices or VoiceResolver()  # the one voice rule (studio/voices.py)
        self.load_error = load_error
        self.draining = threading.Event()  # set on SIGTERM: new jobs are refused
        self.drain_installed = False
        self.jobs = 0  # jobs under way through the handler: the SIGTERM drain waits for them
        self.checker = checker  # inference.take_check.TakeChecker, for `check` and `candidates`
        self.limits = limits or FetchLimits()  # how reference audio may arrive (HVS_MAX_REFERENCE_BYTES, ...)
        self.drain_s = drain_s  # HVS_DRAIN_S
        self.warm_up_at_start = warm_up_at_start  # HVS_WARMUP
        # the service every job goes through (refusing new work once `draining` is set, like the studio)
        self.studio = Studio(engine, resolver=self.voices, checker=checker, draining=self.draining)

    def start(self, warm_up: bool | None = None) -> Worker:
        """Load (and warm) the model; a failure is kept and reported by every job instead of crash-looping."""
        if self.load_error:
            return self
        try:
            self.engine.load()
            if self.warm_up_at_start if warm_up is None else warm_up:
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

                yield DetectOutput(**detect(detect_job_audio(job_input, self.limits))).to_json()
                return
            if self.load_error:
                raise StudioError(f"The worker's model is not available: {self.load_error}")
            if self.draining.is_set():
                raise StudioError("The worker is shutting down; send the job again.")
            if is_revise_job(job_input):
                yield self._revise(job_input, job_id, cancel).to_json()
                return
            parsed = parse_job(job_input, self.voices, self.limits)
            parsed.request = self.studio.sized(parsed.request)  # the studio's length rule, before the budget
            check_returnable(parsed, self.storage)  # before generating: what could not come back is refused
            if parsed.options.prompt_only:
                prompt = self.studio.render_prompt(parsed.request)
                frames = getattr(prompt, "audio_frames", getattr(prompt, "reference_frames", 0))
                yield PromptOutput(prompt=prompt.rendered, audio_frames=frames, warnings=prompt.warnings).to_json()
            elif parsed.options.stream:
                yield from self._stream(parsed, job_id, cancel)
            else:
                takes = self.studio.make_takes(parsed.request, cancel, check=parsed.options.check)
                yield self._deliver(takes.result, parsed, job_id, takes).to_json()
            log.info("job %s done in %.2f s", job_id, time.perf_counter() - started)
        except InvalidRequest as err:
            log.info("job %s rejected: %s", job_id, err)
            yield ErrorOutput(error=str(err), error_type="invalid_request").to_json()
        except StudioError as err:
            log.warning("job %s failed: %s", job_id, err)
            yield ErrorOutput(error=str(err), error_type="studio_error").to_json()
        except Exception as err:  # a bug must not take the worker down with it
            log.exception("job %s crashed", job_id)
            yield ErrorOutput(error=f"The worker hit an internal error ({type(err).__name__}); the job failed, "
                                    "the worker is still running.", error_type="internal").to_json()

    def health(self) -> dict:
        from runpod.version import __version__ as runpod_version

        return HealthOutput(
            status="error" if self.load_error else "draining" if self.draining.is_set() else "ok",
            load_error=self.load_error,
            engine=self.studio.status() if self.engine else {"loaded": False},
            storage=self.storage.describe(),
            voices=self.voices.library.names(),
            output_formats=list(OUTPUT_FORMATS),
            runpod=runpod_version,
        ).to_json()

    def _stream(self, parsed: ParsedJob, job_id: str, cancel: threading.Event | None = None) -> Iterator[dict]:
        from inference.audio.codec import encode
        from studio.best_of import Takes, require_checker, score_take

        if parsed.request.candidates > 1:
            raise InvalidRequest("stream cannot be combined with candidates above 1: the best take is only known "
                                 "once all are made. Leave out stream, or ask for one candidate.")
        if parsed.options.check:
            require_checker(self.checker)  # before generating, not after
        sent_s, sent_chars, index = 0.0, 0, 0
        for chunk in capped(self.studio.stream(parsed.request, cancel)):  # RunPod's output cap
            if len(chunk.waveform):
                item = ChunkOutput(
                    index=index, start_s=round(sent_s, 3), duration_s=round(len(chunk.waveform) / chunk.sample_rate, 3),
                    sample_rate=chunk.sample_rate, part=chunk.part, parts=chunk.parts,
                    audio_base64=base64.b64encode(encode(chunk.waveform, "wav", chunk.sample_rate)).decode("ascii"))
                sent_s += item.duration_s
                sent_chars += len(item.audio_base64)
                index += 1
                yield item.to_json()
            if chunk.result is not None:
                scores = [score_take(self.checker, parsed.request, chunk.result)] if parsed.options.check else [None]
                final = self._deliver(chunk.result, parsed, job_id, Takes(chunk.result, scores), fit_inline=False)
                # RunPod caps a job's aggregated output (~20 MB): the chunks already hold the whole take.
                if final.audio_base64 and sent_chars + len(final.audio_base64) > STREAM_OUTPUT_LIMIT:
                    final.audio_base64 = None
                    final.audio_in_chunks = True
                    final.warnings.append("The take is too large to repeat after its streamed chunks (RunPod "
                                          "caps a job's output at 20 MB): join the chunks, or configure S3.")
                yield final.to_json()
                return

    def _revise(self, job_input: dict, job_id: str, cancel: threading.Event | None) -> ResultOutput:
        """A take edited from its recipe (studio/revise.py); the output carries the new recipe."""
        given, edit, clips = parse_revise_job(job_input, self.limits)
        if edit.action == "render":
            edited = self.studio.render(given.recipe)
        else:
            edited = self.studio.revise(given.recipe, edit, clips, cancel)
        options = ParsedJob(None, TakeInput(output=given.output))
        return self._deliver(edited.result, options, job_id)

    def _deliver(self, result, parsed: ParsedJob, job_id: str, takes=None, fit_inline: bool = True) -> ResultOutput:
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
        timings = {name: round(getattr(t, name), 3) for name in TimingsOutput.model_fields}
        return ResultOutput(
            **stored,
            format=fmt,
            content_type=OUTPUT_FORMATS[fmt],
            bytes=len(audio),
            sample_rate=result.sample_rate,
            duration_s=round(result.duration_s, 3),
            seed=result.seed,
            model=result.model_id,
            timings=TimingsOutput(**timings),
            warnings=[*result.warnings, *warnings],
            segments=result.segments,
            subtitles={fmt: subtitles.render(result.segments, fmt) for fmt in subtitles.FORMATS},
            take_check=takes.report() if takes is not None and takes.score is not None else None,
            recipe=recipe_object(result),
        )
