"""Settings: every environment variable Higgs Voice Studio reads, one field each, documented here once.

The roots (app.py, cli/, serverless/handler.py) read the environment once with `Settings.from_env()` and
pass the values down as arguments; no other module reads os.environ. A field with a `flag` is also a
command-line flag of `python app.py` (its --help, and the flag table in docs/configuration.md, come from these fields).
A bad value is a `SettingError`: one sentence naming the variable (or the flag) and what it should be.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_MODEL = "bosonai/higgs-audio-v2-generation-3B-base"  # = inference.model.loading.DEFAULT_MODEL_ID
MAX_URL_EXPIRY_S = 7 * 24 * 3600  # the SigV4 limit for presigned URLs


class SettingError(ValueError):
    """A setting that cannot work: the message is one line a person can act on (exit code 2 at a root)."""


def _var(env: str, default: Any, description: str, *, flag: str | None = None, shown: str | None = None,
         secret: bool = False, **checks: Any) -> Any:
    """A field read from `env` ("A|B": the first of A, B that is set). `shown`: the default as --help and the
    docs/configuration.md say it, where the value itself does not say it. A `secret` is never shown (repr, errors)."""
    names = env.split("|")
    return Field(default, validation_alias=names[0] if len(names) == 1 else AliasChoices(*names),
                 description=description, repr=not secret,
                 json_schema_extra={"env": names, "flag": flag, "shown": shown, "secret": secret}, **checks)


class Settings(BaseSettings):
    """Build it with `Settings.from_env()` (the process environment) or `Settings.from_env(mapping)`."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True,
                                      validate_by_name=True, str_strip_whitespace=True, allow_inf_nan=False)

    # ---- the studio's flags: `python app.py --model ...` or HVS_MODEL=... ----------------------------------
    model: str = _var("HVS_MODEL", DEFAULT_MODEL, "Hub id, local checkpoint path, or tiny-random", flag="--model")
    backend: str = _var("HVS_BACKEND", "local", "local, runpod:<endpoint-id> (a RunPod endpoint), or "
                        "openai:<base-url> (an OpenAI-compatible speech server; key in HVS_BACKEND_API_KEY)",
                        flag="--backend")
    device: str = _var("HVS_DEVICE", "auto", "auto (cuda > mps > cpu), cpu, cuda, cuda:N, mps", flag="--device")
    dtype: str = _var("HVS_DTYPE", "auto", "auto (bf16 on GPU, fp32 on CPU), float32, bfloat16, float16",
                      flag="--dtype")
    host: str = _var("HVS_HOST|GRADIO_SERVER_NAME", "127.0.0.1", "address to listen on (0.0.0.0 for all)",
                     flag="--host")
    port: int = _var("PORT", 7860, "port to listen on (0: any free port)", flag="--port", ge=0, le=65535)
    share: bool = _var("HVS_SHARE", False, "also serve through a public gradio.live link", flag="--share")
    auth: str | None = _var("HVS_AUTH", None, "user:password required to open the studio (prefer the env "
                            "variable)", flag="--auth", secret=True)
    root_path: str | None = _var("HVS_ROOT_PATH", None, "URL prefix when served behind a reverse proxy, e.g. "
                                 "/studio", flag="--root-path")
    queue_size: int = _var("HVS_QUEUE_SIZE", 16, "most requests waiting at once; more are refused with a message",
                           flag="--queue-size", ge=1)
    max_batch: int | None = _var("HVS_MAX_BATCH", None, "takes generated together in one batch; also the queue's "
                                 "concurrency", flag="--max-batch", shown="8 on a GPU, 4 on CPU", ge=1, le=64)
    batch_window_ms: float = _var("HVS_BATCH_WINDOW_MS", 20.0, "an idle model waits this long for more takes to "
                                  "batch", flag="--batch-window-ms", ge=0, le=1000)
    compile: bool = _var("HVS_COMPILE", False, "torch.compile the decode step, compiled during warm-up for every "
                         "batch size", flag="--compile")
    quantize: str | None = _var("HVS_QUANTIZE", None, "8bit or 4bit: load the LM with bitsandbytes (GPUs with "
                                "8-16 GB)", flag="--quantize")
    voices_dir: Path | None = _var("HVS_VOICES_DIR", None, "folder of preset voices (NAME.wav + NAME.txt "
                                   "[+ NAME.json])", flag="--voices-dir", shown="assets/voices")
    asr_model: str = _var("HVS_ASR_MODEL", "openai/whisper-base", "Whisper model for transcripts ('none' turns "
                          "it off)", flag="--asr-model")
    speaker_model: str = _var("HVS_SPEAKER_MODEL", "microsoft/wavlm-base-plus-sv", "speaker model for the take "
                              "check's voice similarity ('none' turns it off)", flag="--speaker-model")
    watermark: bool = _var("HVS_WATERMARK", True, "operator only: takes carry no watermark (logged loudly at "
                           "start)", flag="--no-watermark", shown="marked")
    mcp: bool = _var("HVS_MCP", False, "also serve the API as MCP tools at /gradio_api/mcp/", flag="--mcp")

    # ---- the studio, without a flag ------------------------------------------------------------------------
    browser_secret: str | None = _var("HVS_BROWSER_SECRET", None, "key for the voices visitors keep in their "
                                      "browsers (not a secret from them); default: made once under the cache")
    trained_dir: Path | None = _var("HVS_TRAINED_DIR", None, "where trained voices (LoRA adapters) are kept (default: trained/ under the voices folder, else under the cache)")
    max_adapters: int = _var("HVS_MAX_ADAPTERS", 8, "trained voices (LoRA adapters) kept loaded in memory at once; "
                             "the least recently used leaves first", ge=1, le=256)
    takes_dir: Path | None = _var("HVS_TAKES_DIR", None, "where finished takes are kept (default: a temp folder)")
    assets_dir: Path | None = _var("HVS_ASSETS_DIR", None, "folder of scenes.json and voice_descriptions.json "
                                   "(default: assets/)")
    openai_voices: Path | None = _var("HVS_OPENAI_VOICES", None, "JSON file mapping OpenAI's voice names (alloy, "
                                      "nova, ...) to studio voices, over the shipped assets/openai_voices.json")
    api_key: str = _var("HVS_API_KEY", "", "Bearer key for every programmatic door: Gradio's API, MCP, /v1 (empty: as open as the page)",
                        secret=True)
    login_attempts: int = _var("HVS_LOGIN_ATTEMPTS", 10, "wrong passwords or keys one client address may send "
                               "within HVS_LOGIN_LOCKOUT_S before it is locked out that long", ge=1, le=10_000)
    login_lockout_s: float = _var("HVS_LOGIN_LOCKOUT_S", 60.0, "the window, and the lockout, of "
                                  "HVS_LOGIN_ATTEMPTS (seconds)", gt=0, le=86_400)
    upload_quota_mb: int = _var("HVS_UPLOAD_QUOTA_MB", 4096, "disk the page's upload folder may fill (MB): past it "
                                "uploads are refused until files an hour old are deleted", ge=1)
    drain_s: float = _var("HVS_DRAIN_S", 30.0, "on SIGTERM, seconds running takes (or jobs) get to finish", ge=0)
    cpu_threads: int = _var("HVS_CPU_THREADS", 1, "threads per tensor op on CPU", ge=1, le=1024)
    spaces_zero_gpu: bool = _var("SPACES_ZERO_GPU", False, "set by Hugging Face on ZeroGPU hardware: no warm-up, "
                                 "a GPU per call")
    cache: Path | None = _var("HVS_CACHE", None, "the studio's own files go under $HVS_CACHE/higgs-voice-studio "
                              "(default: under HF_HOME)")
    hf_home: Path | None = _var("HF_HOME", None, "Hugging Face's cache (read here only to place HVS_CACHE's "
                                "default)")
    use_preloaded: bool = _var("HVS_USE_PRELOADED", True, "read by docker/entrypoint.sh: 0 ignores weights baked "
                               "into the image")

    # ---- remote backends (--backend runpod:... / openai:...) ---------------------------------------------
    runpod_api_key: str = _var("RUNPOD_API_KEY", "", "the RunPod API key", secret=True)
    runpod_base_url: str | None = _var("HVS_RUNPOD_BASE_URL", None, "RunPod's API (default "
                                       "https://api.runpod.ai/v2)")
    runpod_timeout_s: float = _var("HVS_RUNPOD_TIMEOUT_S", 600.0, "how long to wait for a remote take", gt=0)
    backend_api_key: str = _var("HVS_BACKEND_API_KEY", "", "key sent to the OpenAI-compatible speech server",
                                secret=True)
    backend_voice: str | None = _var("HVS_BACKEND_VOICE", None, "the server's voice for takes without a clip")
    backend_timeout_s: float = _var("HVS_BACKEND_TIMEOUT_S", 600.0, "how long to wait for a remote take", gt=0)

    # ---- the RunPod serverless worker ----------------------------------------------------------------------
    warmup: bool = _var("HVS_WARMUP", True, "0 skips the warm-up take at cold start")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = _var("HVS_LOG_LEVEL", "INFO",
                                                                              "the worker's log level")
    max_reference_bytes: int = _var("HVS_MAX_REFERENCE_BYTES", 20 * 2**20, "largest reference clip a job may "
                                    "send", ge=1)
    url_timeout_s: float = _var("HVS_URL_TIMEOUT_S", 30.0, "total time to fetch a reference_audio_url", gt=0)
    url_allow_private: bool = _var("HVS_URL_ALLOW_PRIVATE", False, "1 also fetches URLs on loopback / private "
                                   "networks")
    s3_bucket: str | None = _var("HVS_S3_BUCKET|BUCKET_NAME", None, "S3 bucket for takes (none: base64)")
    s3_endpoint_url: str | None = _var("HVS_S3_ENDPOINT_URL|BUCKET_ENDPOINT_URL", None, "S3-compatible endpoint "
                                       "(none: AWS)")
    s3_region: str = _var("HVS_S3_REGION|BUCKET_REGION|AWS_REGION|AWS_DEFAULT_REGION", "us-east-1", "S3 region")
    s3_access_key_id: str | None = _var("HVS_S3_ACCESS_KEY_ID|BUCKET_ACCESS_KEY_ID", None, "S3 key id (none: "
                                        "AWS's default chain)", secret=True)
    s3_secret_access_key: str | None = _var("HVS_S3_SECRET_ACCESS_KEY|BUCKET_SECRET_ACCESS_KEY", None,
                                            "S3 secret key", secret=True)
    s3_prefix: str = _var("HVS_S3_PREFIX", "takes/", "key prefix in the bucket")
    s3_url_expiry_s: int = _var("HVS_S3_URL_EXPIRY", 3600, "presigned URL lifetime in seconds", ge=1,
                                le=MAX_URL_EXPIRY_S)
    s3_attempts: int = _var("HVS_S3_ATTEMPTS", 3, "upload tries before base64", ge=1, le=10)
    s3_backoff_s: float = _var("HVS_S3_BACKOFF_S", 1.0, "first pause between tries (doubles)", ge=0, le=60)
    s3_timeout_s: float = _var("HVS_S3_TIMEOUT_S", 10.0, "the most one S3 upload may take", ge=0.1,
                               le=300)
    s3_cooldown_s: float = _var("HVS_S3_COOLDOWN_S", 60.0, "after a failed delivery, S3 is skipped this long",
                                ge=0, le=3600)

    @field_validator("auth")
    @classmethod
    def _login(cls, value: str | None) -> str | None:
        if value is not None and ":" not in value:
            raise ValueError("must look like user:password")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return init_settings, _Environment(settings_cls)  # flags first; no .env file, no secrets folder

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """The settings of `env` (default: this process's environment), with `flags` (field name -> value
        given on a command line; None = not given) taking precedence. An empty variable counts as unset.
        Raises SettingError naming every bad variable or flag."""
        given = {name: value for name, value in flags.items() if value is not None}
        if unknown := set(given) - set(cls.model_fields):
            raise TypeError(f"not settings: {', '.join(sorted(unknown))}")
        token = _ENVIRONMENT.set(env)
        try:
            return cls(**given)
        except ValidationError as err:
            raise SettingError(" ".join(_sentence(problem, set(given)) for problem in err.errors())) from None
        finally:
            _ENVIRONMENT.reset(token)

    @classmethod
    def flags(cls) -> dict[str, str]:
        """field name -> its command-line flag, for the fields that have one."""
        return {name: info.json_schema_extra["flag"] for name, info in cls.model_fields.items()
                if info.json_schema_extra["flag"]}

    @property
    def studio_cache(self) -> Path:
        """`$HVS_CACHE/higgs-voice-studio`, else under `$HF_HOME` (~/.cache/huggingface), like the weights.
        Absolute, so a relative HVS_CACHE names one place even if the process later changes directory."""
        root = self.cache or self.hf_home or Path.home() / ".cache" / "huggingface"
        return Path(root).resolve() / "higgs-voice-studio"

    @property
    def trained_root(self) -> Path:
        """Where trained voices live: HVS_TRAINED_DIR, else trained/ under the voices folder (when one is set),
        else under the studio's cache (never inside the shipped assets/)."""
        if self.trained_dir:
            return Path(self.trained_dir)
        return Path(self.voices_dir) / "trained" if self.voices_dir else self.studio_cache / "trained"

    def remote_options(self, backend: str) -> dict[str, Any]:
        """Keyword arguments of `backends.build_engine` for a remote backend: its key, timeout and more."""
        if backend.startswith("runpod:"):
            return {"api_key": self.runpod_api_key, "timeout_s": self.runpod_timeout_s,
                    "base_url": self.runpod_base_url}
        if backend.startswith("openai:"):
            return {"api_key": self.backend_api_key, "timeout_s": self.backend_timeout_s,
                    "voice": self.backend_voice}
        return {}


_ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("environment", default=None)


class _Environment(PydanticBaseSettingsSource):
    """Each field's first non-empty variable, as text: from the mapping given to `from_env`, else os.environ."""

    def get_field_value(self, field, field_name):  # the base class asks for it; __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = _ENVIRONMENT.get()
        environ = os.environ if environ is None else environ
        found = {}
        for name, info in self.settings_cls.model_fields.items():
            variables = info.json_schema_extra["env"]
            if name in self.current_state or any(var in self.current_state for var in variables):
                continue  # given as a flag
            if given := next((var for var in variables if str(environ.get(var, "")).strip()), None):
                found[given] = environ[given]
        return found


def studio_cache() -> Path:
    """Settings.studio_cache for code below the roots that has no Settings (the tiny checkpoint's folder);
    it reads only HVS_CACHE and HF_HOME, so another bad variable does not matter here."""
    only = {var: os.environ[var] for var in ("HVS_CACHE", "HF_HOME") if var in os.environ}
    return Settings.from_env(only).studio_cache


def described(name: str) -> tuple[list[str], str | None, str]:
    """A field's variables, flag and default as --help and docs/configuration.md show it ('off' for a switch that is off)."""
    info = Settings.model_fields[name]
    extra = info.json_schema_extra
    default = info.default
    shown = extra["shown"] or ("off" if default is False else "none" if default is None else
                               _number(default) if isinstance(default, float) else str(default))
    return extra["env"], extra["flag"], shown


# ---- one readable sentence per problem -------------------------------------------------------------------
_PARSING = {"int_parsing", "int_from_float", "int_type", "float_parsing", "float_type", "finite_number"}
_BOUNDS = {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}


def _sentence(problem: dict, flags: set[str]) -> str:
    key = str(problem["loc"][0]) if problem["loc"] else "?"
    field = key if key in Settings.model_fields else next(
        (name for name, info in Settings.model_fields.items() if key in info.json_schema_extra["env"]), None)
    if field is None:
        return f"invalid setting {key}: {problem['msg']}."
    extra = Settings.model_fields[field].json_schema_extra
    name = (extra["flag"] or field) if field in flags else key
    raw = problem.get("input")
    kind = problem["type"]
    if kind == "value_error":
        return f"{name} {problem['ctx']['error']}."
    if extra["secret"]:
        return f"invalid {name} (not shown): {problem['msg']}."
    if kind in _PARSING:
        whole = kind.startswith("int") and _is_number(raw)
        bounds = _bounds(field)
        return f"invalid {name} {raw!r}: it must be {'a whole number' if whole else 'a number'}" \
               f"{', ' + bounds if bounds else ''}."
    if kind in _BOUNDS:
        return f"{name} must be {_bounds(field)} (got {raw})."
    if kind == "bool_parsing":
        return f"invalid {name} {raw!r}: use 1 or 0 (or true/false, yes/no, on/off)."
    if kind == "literal_error":
        return f"invalid {name} {raw!r}: use {problem['ctx']['expected']}."
    return f"invalid {name} {raw!r}: {problem['msg']}."


def _bounds(field: str) -> str:
    checks = Settings.model_fields[field].metadata
    low = next((getattr(c, a) for c in checks for a in ("ge", "gt") if hasattr(c, a)), None)
    high = next((getattr(c, a) for c in checks for a in ("le", "lt") if hasattr(c, a)), None)
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    if low is not None:
        return f"{'at least' if any(hasattr(c, 'ge') for c in checks) else 'more than'} {_number(low)}"
    return f"at most {_number(high)}" if high is not None else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True
