"""Higgs Voice Studio: `python app.py` starts the web studio.

Composition root: read the config -> build the engine -> load + warm up -> build the page -> launch.
Every flag has an environment variable (shown in --help) so Spaces, pods and containers need no arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys

log = logging.getLogger("app")

# flag -> (environment variable, default, help)
OPTIONS: dict[str, tuple[str, str | None, str]] = {
    "--model": ("HVS_MODEL", None, "Hub id, local checkpoint path, or tiny-random (default: Higgs Audio V2 base)"),
    "--backend": ("HVS_BACKEND", "local", "local, runpod:<endpoint-id> (a RunPod endpoint), or openai:<base-url> "
                  "(an OpenAI-compatible speech server; key in HVS_BACKEND_API_KEY)"),
    "--device": ("HVS_DEVICE", "auto", "auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps"),
    "--dtype": ("HVS_DTYPE", "auto", "auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, float16"),
    "--host": ("HVS_HOST", os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), "address to listen on (0.0.0.0 for all)"),
    "--port": ("PORT", "7860", "port to listen on"),
    "--auth": ("HVS_AUTH", None, "user:password required to open the studio (prefer the env variable)"),
    "--root-path": ("HVS_ROOT_PATH", None, "URL prefix when served behind a reverse proxy, e.g. /studio"),
    "--queue-size": ("HVS_QUEUE_SIZE", "16", "most requests waiting at once; more are refused with a message"),
    "--max-batch": ("HVS_MAX_BATCH", None, "takes generated together in one batch; also the queue's concurrency "
                    "(default 8 on a GPU, 4 on CPU)"),
    "--batch-window-ms": ("HVS_BATCH_WINDOW_MS", "20", "an idle model waits this long for more takes to batch"),
    "--quantize": ("HVS_QUANTIZE", None, "8bit or 4bit: load the LM with bitsandbytes (GPUs with 8-16 GB)"),
    "--voices-dir": ("HVS_VOICES_DIR", None, "folder of preset voices (NAME.wav + NAME.txt [+ NAME.json])"),
    "--asr-model": ("HVS_ASR_MODEL", "openai/whisper-base", "Whisper model for transcripts ('none' turns it off)"),
    "--speaker-model": ("HVS_SPEAKER_MODEL", "microsoft/wavlm-base-plus-sv",
                        "speaker model for the take check's voice similarity ('none' turns it off)"),
}


def parse_args(argv: list[str] | None = None, env: dict[str, str] | None = None) -> argparse.Namespace:
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(description="Higgs Voice Studio: one-shot voice cloning in the browser.")
    for flag, (var, default, text) in OPTIONS.items():
        kind = {"--port": int, "--queue-size": int, "--max-batch": int, "--batch-window-ms": float}.get(flag, str)
        # a string default goes through `type` like a typed value: a bad variable is a usage error, not a traceback
        parser.add_argument(flag, type=kind, default=env.get(var, default), help=f"{text} [env {var}{'' if default is None else ', default ' + default}]")
    parser.add_argument("--share", action="store_true", default=env.get("HVS_SHARE", "").lower() in ("1", "true"),
                        help="also serve through a public gradio.live link [env HVS_SHARE=1]")
    parser.add_argument("--compile", action="store_true", default=env.get("HVS_COMPILE", "").lower() in ("1", "true"),
                        help="torch.compile the decode step, compiled during warm-up for every batch size "
                             "[env HVS_COMPILE=1]")
    parser.add_argument("--mcp", action="store_true", default=env.get("HVS_MCP", "").lower() in ("1", "true"),
                        help="also serve the API as MCP tools at /gradio_api/mcp/ [env HVS_MCP=1]")
    from inference.audio.watermark import enabled_in  # light: torch is imported only when marking

    parser.add_argument("--no-watermark", action="store_true", default=not enabled_in(env),
                        help="operator only: takes carry no watermark (logged loudly at start) [env HVS_WATERMARK=0]")
    args = parser.parse_args(argv)
    if args.queue_size < 1:  # Gradio's queue holds every call before it runs: 0 would refuse them all
        parser.error("--queue-size must be at least 1")
    if args.auth is not None and ":" not in args.auth:
        parser.error("--auth must look like user:password")
    return args


def browser_secret() -> str:
    """Key for the voice library kept in visitors' browsers; stable across restarts so libraries stay readable."""
    if os.environ.get("HVS_BROWSER_SECRET"):
        return os.environ["HVS_BROWSER_SECRET"]
    from inference.model.paths import cache_root

    path = cache_root() / "browser-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        log.warning("HVS_BROWSER_SECRET is not set: made a new key in %s. Voices visitors saved in their browsers "
                    "under an earlier key can no longer be read. Where that file does not survive a restart "
                    "(a Space, a container) or several replicas serve the page, set HVS_BROWSER_SECRET.", path)
    return path.read_text().strip()


def health_route(engine, demo, queue_size: int, needs_warm_up: bool = True, drain=None, gate=None):
    """GET /healthz: JSON a load balancer or a person can read."""
    from fastapi.routing import APIRoute

    from studio.drain import under_way
    from studio.drain import waiting as waiting_calls

    def healthz() -> dict:
        status = engine.status()
        waiting = waiting_calls(demo, gate)
        ready = "ok" if status.get("loaded") and (status.get("warmed") or not needs_warm_up) else "starting"
        return {
            "status": "draining" if drain is not None and drain.draining.is_set() else ready,
            "model": status.get("model"), "device": status.get("device"), "dtype": status.get("dtype"),
            "loaded": status.get("loaded"), "warmed": status.get("warmed"),
            "busy": under_way(status, demo, gate),
            "generating": status.get("generating", 0), "max_batch": status.get("max_batch"),
            "peak_batch": status.get("peak_batch", 0), "batch_invariant": status.get("batch_invariant"),
            "queue_depth": waiting + int(status.get("pending", 0)), "queue_size": queue_size,
            "noise": status.get("noise", False), "watermark": status.get("watermark"),
        }

    return APIRoute("/healthz", healthz, methods=["GET"])


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from inference.model.zerogpu import attach_gpu_on_demand, import_spaces, on_zerogpu

    import_spaces()  # before anything imports torch
    from starlette.middleware import Middleware

    from backends import build_engine
    from inference.audio.codec import MAX_UPLOAD_BYTES
    from inference.contract.errors import BadSetting, ModelLoadError
    from inference.scoring.take_check import SpeakerEncoder, TakeChecker
    from inference.scoring.transcribe import Transcriber
    from openai_api import Gate, speech_routes
    from studio.drain import Drain, under_way
    from studio.voice_library import VoiceLibrary
    from ui import CSS, Studio, build_ui
    from ui.auth import LoginRequired
    from ui.errors import hide_server_paths

    try:
        local = {"max_batch": args.max_batch, "batch_window_ms": args.batch_window_ms, "compile": args.compile,
                 "quantize": args.quantize, "watermark": not args.no_watermark} if args.backend == "local" else {}
        engine = build_engine(backend=args.backend, model_id=args.model, device=args.device, dtype=args.dtype,
                              **local)
        if args.backend == "local":
            attach_gpu_on_demand(engine)  # a no-op off ZeroGPU
        engine.load()
        # On ZeroGPU a GPU is only attached inside a request, so a warm-up would spend a visitor's quota.
        needs_warm_up = args.backend != "local" or not on_zerogpu()
        if needs_warm_up:
            engine.warm_up()
    except ModelLoadError as err:  # one line, like the CLI, instead of a long traceback
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2 if isinstance(err, BadSetting) else 3) from None
    log.info("engine ready: %s", engine.status())

    transcriber = Transcriber(args.asr_model)
    studio = Studio(engine, voices=VoiceLibrary(args.voices_dir), transcriber=transcriber,
                    checker=TakeChecker(transcriber, SpeakerEncoder(args.speaker_model)))
    demo = build_ui(studio, browser_secret=browser_secret())
    hide_server_paths(demo)
    # as many takes run at once as the engine batches together, so concurrent visitors reach the batcher
    running = getattr(engine, "max_batch", None) or 4
    demo.queue(max_size=args.queue_size, default_concurrency_limit=running)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    gate = Gate(running, args.queue_size)  # the speech API's own queue, as long as the page's
    drain = Drain(studio.draining, busy=lambda: under_way(engine.status(), demo, gate))
    drain.install()
    demo.launch(
        server_name=args.host, server_port=args.port, share=args.share, auth=auth, root_path=args.root_path,
        css=CSS, footer_links=["api"],
        show_error=False,  # our callbacks word their own errors; Gradio's own ones can hold server paths
        max_file_size=MAX_UPLOAD_BYTES,  # the engine's own limit, checked before an upload is kept
        allowed_paths=studio.takes.served_paths(),  # HVS_TAKES_DIR may sit outside the temp dir (a pod's volume)
        mcp_server=args.mcp,
        app_kwargs={"routes": [health_route(engine, demo, args.queue_size, needs_warm_up, drain, gate),
                               *speech_routes(studio, gate)],
                    "middleware": [Middleware(LoginRequired)]},  # auth= alone leaves the stream routes open
    )


if __name__ == "__main__":
    main()
