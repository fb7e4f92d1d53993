"""Download model weights ahead of time: `python -m serverless.preload [MODEL_ID ...]`.

Used by the Dockerfile's PRELOAD_MODEL build argument (weights baked into the image, no download at
cold start) and usable on a pod to fill the volume before the first visitor. Fetches each checkpoint
and the audio tokenizer its processor config names.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def companion_repos(checkpoint: Path) -> list[str]:
    """Hub ids a checkpoint loads besides itself (the audio tokenizer named in processor_config.json)."""
    config = checkpoint / "processor_config.json"
    if not config.is_file():
        return []
    tokenizer = json.loads(config.read_text()).get("audio_tokenizer", {}).get("audio_tokenizer_name_or_path")
    if isinstance(tokenizer, str) and tokenizer.count("/") == 1 and not Path(tokenizer).exists():
        return [tokenizer]
    return []


def preload(model_ids: list[str]) -> list[Path]:
    from huggingface_hub import snapshot_download

    done: list[Path] = []
    queue, seen = list(model_ids), set()
    while queue:
        repo = queue.pop(0)
        if repo in seen or repo.lower() in ("", "none", "tiny-random"):
            continue
        seen.add(repo)
        log.info("downloading %s", repo)
        path = Path(snapshot_download(repo))
        done.append(path)
        queue += companion_repos(path)
    return done


def main(argv: list[str] | None = None) -> int:
    import argparse

    from settings import DEFAULT_MODEL, SettingError, Settings

    parser = argparse.ArgumentParser(prog="python -m serverless.preload", description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", help=f"Hub ids (default: $HVS_MODEL, else {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        models = args.models or [Settings.from_env().model]
    except SettingError as err:
        parser.exit(2, f"error: {err}\n")
    for path in preload(models):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
