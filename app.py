"""Higgs Voice Studio: `python app.py` starts the web studio.

Composition root: read the config -> build the engine -> load + warm up -> build the page -> launch.
Every flag has an environment variable (shown in --help) so Spaces, pods and containers need no arguments;
flags and variables are the fields of settings.py, read once here and handed down.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Mapping

from settings import SettingError, Settings, described

log = logging.getLogger("app")


def build_parser() -> argparse.ArgumentParser:
    """One flag per Settings field that has one: its variable, default and help come from settings.py."""
    parser = argparse.ArgumentParser(description="Higgs Voice Studio: one-shot voice cloning in the browser.")
    for name, flag in Settings.flags().items():
        variables, _, shown = described(name)
        info = Settings.model_fields[name]
        switch = info.annotation is bool  # the flag turns on what is off by default (or off: --no-watermark)
        env = f"{variables[0]}={int(not info.default)}" if switch else " or ".join(variables)
        text = f"{info.description} [env {env}, default {shown}]".replace("%", "%%")
        if switch:
            parser.add_argument(flag, dest=name, action="store_const", const=not info.default, default=None,
                                help=text)
        else:  # checked by Settings with the environment, so a bad flag reads like a bad variable
            parser.add_argument(flag, dest=name, default=None, help=text)
    return parser


def parse_args(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """The command line over the environment (`env`, default: this process's). A bad flag or variable ends
    the process with one line and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        return Settings.from_env(env, **vars(args))
    except SettingError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


def browser_secret(settings: Settings) -> str:
    """Key for the voice library kept in visitors' browsers; stable across restarts so libraries stay readable."""
    if settings.browser_secret:
        return settings.browser_secret
    path = settings.studio_cache / "browser-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        log.warning("HVS_BROWSER_SECRET is not set: made a new key in %s. Voices visitors saved in their browsers "
                    "under an earlier key can no longer be read. Where that file does not survive a restart "
                    "(a Space, a container) or several replicas serve the page, set HVS_BROWSER_SECRET.", path)
    return path.read_text().strip()


def waiting(demo, gate=None) -> int:
    """Calls waiting to start: in the page's queue (Gradio) and in the speech API's (openai_api.Gate)."""
    queued = len(demo._queue) if getattr(demo, "_queue", None) is not None else 0
    return queued + (gate.waiting if gate is not None else 0)


def under_way(status: dict, demo, gate=None) -> bool:
    """Any take generating, being prepared or encoded, or waiting for its turn, through any door."""
    page = any(job for job in getattr(getattr(demo, "_queue", None), "active_jobs", []) or [])
    api = gate is not None and gate.inside > 0
    return bool(status.get("busy") or status.get("pending") or waiting(demo, gate) or page or api)


def health_route(engine, demo, queue_size: int, needs_warm_up: bool = True, drain=None, gate=None):
    """GET /healthz: JSON a load balancer or a person can read."""
    from fastapi.routing import APIRoute

    def healthz() -> dict:
        status = engine.status()
        queued = waiting(demo, gate)
        ready = "ok" if status.get("loaded") and (status.get("warmed") or not needs_warm_up) else "starting"
        return {
            "status": "draining" if drain is not None and drain.draining.is_set() else ready,
            "model": status.get("model"), "device": status.get("device"), "dtype": status.get("dtype"),
            "loaded": status.get("loaded"), "warmed": status.get("warmed"),
            "busy": under_way(status, demo, gate),
            "generating": status.get("generating", 0), "max_batch": status.get("max_batch"),
            "peak_batch": status.get("peak_batch", 0), "batch_invariant": status.get("batch_invariant"),
            "queue_depth": queued + int(status.get("pending", 0)), "queue_size": queue_size,
            "noise": status.get("noise", False), "watermark": status.get("watermark"),
        }

    return APIRoute("/healthz", healthz, methods=["GET"])


def launch(demo, share: bool, **options) -> None:
    """Gradio's launch with our own start-up lines: Gradio's tell a person to set `share=True` in `launch()`,
    ours name the flag. Gradio's `quiet` drops its lines (the share URL and MCP ones stay); we print the
    local URL and, without --share, how to get a public link; then wait like launch() does."""
    demo.launch(share=share, quiet=True, prevent_thread_lock=True, **options)
    from ui.mcp_login import log_mcp_in

    log_mcp_in(demo, options.get("auth"))
    if demo.mcp_error:
        print(demo.mcp_error, flush=True)
    print(f"* Running on local URL:  {demo.local_url}", flush=True)
    if not share:
        print("* To create a public link, start with --share (or HVS_SHARE=1).", flush=True)
    demo.block_thread()


def _start_engine(args: Settings):
    """The voice rule's names (checked before the model loads: a bad table ends the start at once) and the engine,
    loaded and warmed up; a setting or model that cannot work ends the process with one line, like the CLI."""
    from backends import build_engine
    from inference.contract.errors import BadSetting, ModelLoadError
    from inference.model.zerogpu import attach_gpu_on_demand
    from studio.voices import resolver_for

    try:
        voices = resolver_for(args)
        local = {"max_batch": args.max_batch, "batch_window_ms": args.batch_window_ms, "compile": args.compile,
                 "quantize": args.quantize, "watermark": args.watermark, "cpu_threads": args.cpu_threads,
                 "trained_dir": args.trained_root, "max_adapters": args.max_adapters}
        options = local if args.backend == "local" else args.remote_options(args.backend)
        engine = build_engine(backend=args.backend, model_id=args.model, device=args.device, dtype=args.dtype,
                              **options)
        if args.backend == "local":
            attach_gpu_on_demand(engine)  # a no-op off ZeroGPU
        engine.load()
        # On ZeroGPU a GPU is only attached inside a request, so a warm-up would spend a visitor's quota.
        needs_warm_up = args.backend != "local" or not args.spaces_zero_gpu
        if needs_warm_up:
            engine.warm_up()
    except ModelLoadError as err:  # one line, like the CLI, instead of a long traceback
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2 if isinstance(err, BadSetting) else 3) from None
    log.info("engine ready: %s", engine.status())
    return voices, engine, needs_warm_up


def _build_page(args: Settings, engine, voices):
    """The studio (the service every door calls) and the page on it."""
    from inference.scoring.take_check import SpeakerEncoder, TakeChecker
    from inference.scoring.transcribe import Transcriber
    from studio.takes import TakeStore
    from studio.training import VoiceTraining
    from ui import Studio, build_ui
    from ui.errors import hide_server_paths
    from ui.input_limits import check_inputs

    transcriber, speaker = Transcriber(args.asr_model), SpeakerEncoder(args.speaker_model)
    checker = TakeChecker(transcriber, speaker)
    studio = Studio(engine, resolver=voices, transcriber=transcriber, checker=checker,
                    takes=TakeStore(args.takes_dir), zerogpu=args.spaces_zero_gpu)
    training = VoiceTraining(engine if args.backend == "local" else None, args.trained_root,
                             zerogpu=args.spaces_zero_gpu, transcriber=transcriber, speaker=speaker, checker=checker)
    demo = build_ui(studio, browser_secret=browser_secret(args), training=training)
    hide_server_paths(demo)
    check_inputs(demo)  # (outside hide_server_paths: a long list is refused before Gradio walks it)
    return studio, demo


def _serve(args: Settings, engine, studio, demo, needs_warm_up: bool) -> None:
    """The page, the speech API and /healthz on one server, with one queue length, one drain on SIGTERM and one
    count of wrong passwords for every door."""
    from gradio.utils import get_upload_folder
    from starlette.middleware import Middleware

    from inference.audio.codec import MAX_UPLOAD_BYTES
    from openai_api import Gate, speech_routes
    from studio.drain import Drain
    from studio.throttle import Throttle
    from ui import CSS
    from ui.auth import LoginRequired
    from ui.body_limit import BodyLimit
    from ui.upload_quota import UploadQuota

    # as many takes run at once as the engine batches together, so concurrent visitors reach the batcher
    running = getattr(engine, "max_batch", None) or 4
    demo.queue(max_size=args.queue_size, default_concurrency_limit=running)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    gate = Gate(running, args.queue_size)  # the speech API's own queue, as long as the page's
    drain = Drain(studio.draining, busy=lambda: under_way(engine.status(), demo, gate), grace_s=args.drain_s)
    drain.install()
    throttle = Throttle(args.login_attempts, args.login_lockout_s)  # one count of wrong passwords, every door
    launch(
        demo, share=args.share,
        server_name=args.host, server_port=args.port, auth=auth, root_path=args.root_path,
        css=CSS, footer_links=["api"],
        show_error=False,  # our callbacks word their own errors; Gradio's own ones can hold server paths
        max_file_size=MAX_UPLOAD_BYTES,  # the engine's own limit, checked before an upload is kept
        allowed_paths=studio.takes.served_paths(),  # HVS_TAKES_DIR may sit outside the temp dir (a pod's volume)
        mcp_server=args.mcp,
        app_kwargs={"routes": [health_route(engine, demo, args.queue_size, needs_warm_up, drain, gate),
                               *speech_routes(studio, gate, args.api_key, throttle)],
                    # auth= alone leaves the stream routes open, and knows nothing of the key; Gradio's event
                    # routes read any body size
                    "middleware": [Middleware(LoginRequired, api_key=args.api_key, throttle=throttle),
                                   Middleware(BodyLimit),
                                   Middleware(UploadQuota, max_bytes=args.upload_quota_mb * 2**20,
                                              folder=get_upload_folder())]},
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)  # the Settings: flags over the environment
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from inference.model.zerogpu import import_spaces

    import_spaces()  # before anything imports torch
    voices, engine, needs_warm_up = _start_engine(args)
    studio, demo = _build_page(args, engine, voices)
    _serve(args, engine, studio, demo, needs_warm_up)


if __name__ == "__main__":
    main()
