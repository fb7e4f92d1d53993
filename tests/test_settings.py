"""settings.py is the only reader of the environment; `--help`, the flag table in docs/configuration.md and the Settings
fields agree; a bad value is one clear line; the roots hand the values down."""

from __future__ import annotations

import ast
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from settings import SettingError, Settings, described
from tests.conftest import ROOT

NOT_SCANNED = {"tests", "bench", "test-output", "node_modules", "__pycache__"}
ENVIRONMENT = ("environ", "environb", "getenv", "getenvb")


# ---- only settings.py reads os.environ ------------------------------------------------------------------
def environment_reads(source: str) -> list[int]:
    """Lines that read the environment: os.environ / os.getenv in any form but `os.environ.setdefault(...)`
    and `os.environ[...] = ...` (a root setting a library's own variable for it)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                any(alias.name in ENVIRONMENT for alias in node.names):
            lines.append(node.lineno)
        if not (isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            continue
        parent = parents.get(node)
        writes = (isinstance(parent, ast.Attribute) and parent.attr == "setdefault") or \
            (isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store))
        if not writes:
            lines.append(node.lineno)
    return sorted(lines)


def project_modules() -> list[Path]:
    return [path for path in ROOT.rglob("*.py")
            if not NOT_SCANNED.intersection(path.relative_to(ROOT).parts)
            and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
            and path != ROOT / "settings.py"]


def test_the_checker_finds_every_way_of_reading_the_environment():
    source = ("import os\nfrom os import getenv\na = os.environ.get('X')\nb = os.environ['Y']\nc = os.getenv('Z')\n"
              "d = dict(os.environ)\nos.environ.setdefault('HF_HUB_DISABLE_PROGRESS_BARS', '1')\n"
              "os.environ['TOKENIZERS_PARALLELISM'] = 'false'\n")
    assert environment_reads(source) == [2, 3, 4, 5, 6]


def test_only_settings_reads_the_environment():
    modules = project_modules()
    assert ROOT / "app.py" in modules and ROOT / "serverless" / "handler.py" in modules and len(modules) > 50
    readers = {str(path.relative_to(ROOT)): lines for path in modules
               if (lines := environment_reads(path.read_text(encoding="utf-8")))}
    assert readers == {}, f"read the environment through settings.py instead: {readers}"


# ---- --help, the flag table in docs/configuration.md and the fields agree -------------------------------------------------
def help_flags() -> dict[str, tuple[set[str], str]]:
    """flag -> (its variables, its default) as `python app.py --help` prints them."""
    run = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "1000"}, check=True)
    options = " ".join(run.stdout.split("options:", 1)[1].split())
    flags = set(re.findall(r"(?:^| )(--[a-z][\w-]*)", options)) - {"--help"}
    found = {m[1]: ({v.split("=")[0] for v in m[2].split(" or ")}, m[3]) for m in re.finditer(
        r"(--[a-z][\w-]*)(?: [A-Z_]+)? (?:(?!--[a-z]).)*?\[env ([^\],]+), default ([^\]]+)\]", options)}
    assert set(found) == flags, f"flags without '[env ..., default ...]' in --help: {flags - set(found)}"
    return found


def readme_flags() -> dict[str, tuple[set[str], str]]:
    """flag -> (its variables, its default) as the flag table in docs/configuration.md gives them."""
    lines = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("| flag | environment | default | meaning |") + 2
    rows = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        flag, env, default = (cell.strip() for cell in line.strip("|").split("|")[:3])
        name = re.match(r"`(--[\w-]+)", flag)[1]
        rows[name] = ({v.split("=")[0] for v in re.findall(r"`([A-Z][A-Z0-9_=]*)`", env)}, default.replace("`", ""))
    return rows


def test_help_readme_and_settings_agree():
    fields = {flag: (set(described(name)[0]), described(name)[2]) for name, flag in Settings.flags().items()}
    assert len(fields) >= 19
    assert help_flags() == fields
    readme = readme_flags()
    assert set(readme) == set(fields), "docs/configuration.md flag table rows missing or extra"
    for flag, (variables, default) in fields.items():
        assert readme[flag] == (variables, default), f"docs/configuration.md row {flag}: {readme[flag]} != {(variables, default)}"


# ---- reading -------------------------------------------------------------------------------------------
def test_a_mapping_is_read_alone_and_flags_win(monkeypatch):
    monkeypatch.setenv("HVS_MODEL", "from-the-process")
    assert Settings.from_env({}).model == "bosonai/higgs-audio-v2-generation-3B-base"
    settings = Settings.from_env({"PORT": "9000", "HVS_QUEUE_SIZE": "3", "HVS_MAX_BATCH": "", "HVS_SHARE": "  ",
                                  "GRADIO_SERVER_NAME": "0.0.0.0"}, port="7000", queue_size=None)
    assert (settings.port, settings.queue_size, settings.max_batch, settings.share) == (7000, 3, None, False)
    assert settings.host == "0.0.0.0"  # GRADIO_SERVER_NAME, as Gradio reads it
    assert Settings.from_env({"GRADIO_SERVER_NAME": "0.0.0.0", "HVS_HOST": "::"}).host == "::"  # ours first
    assert Settings.from_env({"BUCKET_NAME": "b", "AWS_REGION": "eu-west-1"}).s3_region == "eu-west-1"


def test_pydantic_settings_reads_the_process_environment_the_same_way(monkeypatch):
    for var, value in {"HVS_MAX_BATCH": "3", "GRADIO_SERVER_NAME": "0.0.0.0", "HVS_SHARE": "", "HVS_WATERMARK": "off",
                       "HVS_S3_BUCKET": "b", "HVS_DRAIN_S": "2.5"}.items():
        monkeypatch.setenv(var, value)
    assert Settings() == Settings.from_env()
    assert (Settings().max_batch, Settings().host, Settings().watermark, Settings().drain_s) == (3, "0.0.0.0", False, 2.5)


@pytest.mark.parametrize(("env", "message"), [
    ({"HVS_MAX_BATCH": "65"}, "HVS_MAX_BATCH must be between 1 and 64 (got 65)."),  # a number out of range
    ({"HVS_CPU_THREADS": "0"}, "HVS_CPU_THREADS must be between 1 and 1024 (got 0)."),
    ({"HVS_QUEUE_SIZE": "0"}, "HVS_QUEUE_SIZE must be at least 1 (got 0)."),
    ({"HVS_BATCH_WINDOW_MS": "5000"}, "HVS_BATCH_WINDOW_MS must be between 0 and 1000 (got 5000)."),
    ({"HVS_DRAIN_S": "soon"}, "invalid HVS_DRAIN_S 'soon': it must be a number, at least 0."),  # not a number
    ({"HVS_CPU_THREADS": "1.5"}, "invalid HVS_CPU_THREADS '1.5': it must be a whole number, between 1 and 1024."),
    ({"HVS_MCP": "maybe"}, "invalid HVS_MCP 'maybe': use 1 or 0 (or true/false, yes/no, on/off)."),
    ({"HVS_LOG_LEVEL": "loud"}, "invalid HVS_LOG_LEVEL 'LOUD': use 'DEBUG', 'INFO', 'WARNING', 'ERROR' or "
                                "'CRITICAL'."),
    ({"HVS_AUTH": "ann-topsecret"}, "HVS_AUTH must look like user:password."),  # the value is never repeated
])
def test_a_bad_value_is_one_clear_sentence(env, message):
    with pytest.raises(SettingError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message


def test_a_bad_flag_is_named_as_the_flag_and_every_problem_is_told():
    with pytest.raises(SettingError) as caught:
        Settings.from_env({"HVS_S3_ATTEMPTS": "50"}, queue_size="0", max_batch="lots")
    assert str(caught.value) == ("--queue-size must be at least 1 (got 0). invalid --max-batch 'lots': it must be a "
                                 "number, between 1 and 64. HVS_S3_ATTEMPTS must be between 1 and 10 (got 50).")


def test_secrets_stay_out_of_repr():
    secrets = {"HVS_AUTH": "ann:pw-1", "HVS_API_KEY": "key-2", "RUNPOD_API_KEY": "key-3",
               "HVS_BACKEND_API_KEY": "key-4", "HVS_S3_SECRET_ACCESS_KEY": "key-5", "BUCKET_ACCESS_KEY_ID": "key-6"}
    settings = Settings.from_env(secrets)
    assert settings.auth == "ann:pw-1" and settings.s3_access_key_id == "key-6"
    assert not any(value in repr(settings) for value in secrets.values())


@pytest.mark.parametrize("command", [["app.py"], ["-m", "inference", "Hi.", "--out", "x.wav"],
                                     ["-m", "serverless.preload"]])
def test_a_bad_variable_stops_each_root_with_one_line_and_exit_code_2(tmp_path, command):
    run = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "HVS_QUEUE_SIZE": "lots", "HVS_CPU_THREADS": "many"})
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "error: invalid HVS_QUEUE_SIZE 'lots': it must be a number, at least 1. invalid HVS_CPU_THREADS 'many': "
        "it must be a number, between 1 and 1024.")
    assert "Traceback" not in run.stderr


# ---- the roots hand the values down -----------------------------------------------------------------------
def test_the_defaults_are_those_of_the_layers_below():
    import inspect

    from backends import openai_compatible, runpod
    from inference.engine import Engine
    from inference.model.batching import MAX_BATCH, MAX_BATCH_WINDOW_MS
    from inference.model.loading import DEFAULT_MODEL_ID
    from inference.scoring.take_check import DEFAULT_SPEAKER_MODEL
    from inference.scoring.transcribe import DEFAULT_ASR_MODEL
    from serverless.storage import S3Config
    from studio.drain import DEFAULT_DRAIN_S
    from wire import fetch

    settings = Settings.from_env({})
    assert (settings.model, settings.asr_model, settings.speaker_model) == (DEFAULT_MODEL_ID, DEFAULT_ASR_MODEL,
                                                                            DEFAULT_SPEAKER_MODEL)
    assert settings.batch_window_ms == inspect.signature(Engine).parameters["batch_window_ms"].default
    assert Settings.from_env({"HVS_MAX_BATCH": str(MAX_BATCH)}).max_batch == MAX_BATCH
    with pytest.raises(SettingError):
        Settings.from_env({"HVS_MAX_BATCH": str(MAX_BATCH + 1)})
    with pytest.raises(SettingError):
        Settings.from_env({"HVS_BATCH_WINDOW_MS": str(MAX_BATCH_WINDOW_MS + 1)})
    assert settings.drain_s == DEFAULT_DRAIN_S
    assert (settings.runpod_timeout_s, settings.backend_timeout_s) == (runpod.DEFAULT_TIMEOUT_S,
                                                                       openai_compatible.DEFAULT_TIMEOUT_S)
    assert (settings.max_reference_bytes, settings.url_timeout_s, settings.url_allow_private) == (
        fetch.MAX_REFERENCE_BYTES, fetch.URL_TOTAL_TIMEOUT_S, fetch.ALLOW_PRIVATE)
    assert S3Config.from_settings(Settings.from_env({"HVS_S3_BUCKET": "b"})) == S3Config("b")


def test_the_worker_gets_its_values_from_the_given_environment(voices_dir, file_server):
    from serverless.handler import build_worker

    env = {"HVS_MODEL": "tiny-random", "HVS_DEVICE": "cpu", "HVS_WATERMARK": "0", "HVS_WARMUP": "0",
           "HVS_DRAIN_S": "5", "HVS_MAX_BATCH": "2", "HVS_CPU_THREADS": "1", "HVS_VOICES_DIR": str(voices_dir),
           "HVS_MAX_REFERENCE_BYTES": "1000"}
    worker = build_worker(env)
    assert not worker.load_error and (worker.drain_s, worker.warm_up_at_start) == (5.0, False)
    assert worker.engine.max_batch == 2 and worker.engine.watermarker.enabled is False
    assert worker.voices.library.names() == ["tester"] and worker.limits.max_bytes == 1000
    (item,) = worker.run({"id": "d", "input": {"detect": base64.b64encode(b"x" * 2000).decode()}})
    assert "over the 1.0 kB limit" in item["error"], item
    url = f"{file_server}/speech.wav"
    (refused,) = worker.run({"id": "p", "input": {"detect": url}})
    assert "private address" in refused["error"]
    opted_in = build_worker({**env, "HVS_URL_ALLOW_PRIVATE": "1", "HVS_MAX_REFERENCE_BYTES": str(2**20)})
    (fetched,) = opted_in.run({"id": "p", "input": {"detect": url}})
    assert fetched["type"] == "detect" and fetched["marked"] is False, fetched
