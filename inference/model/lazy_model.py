"""A helper model (Whisper, the speaker encoder) loaded on first use, shared by every request.

Most visitors never need these, so they load lazily; loading is thread-safe and happens once; a failed
load becomes one clear sentence and is not retried on every click (each try can wait on the network).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from inference.contract.errors import ModelLoadError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 300.0
DISABLED = ("", "none", "off")


class LazyModel:
    """Subclasses set `default` (the model id when none is given) and implement `_build` and
    `_describe_failure`; `load()` returns what `_build` returned."""

    default = ""
    off_message = "This model is turned off on this server."

    def __init__(self, model_id: str | None = None, device: str = "cpu") -> None:
        self.model_id = model_id if model_id is not None else self.default
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self._failure: tuple[float, str] | None = None

    @property
    def enabled(self) -> bool:
        return self.model_id.strip().lower() not in DISABLED

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> Any:
        if not self.enabled:
            raise ModelLoadError(self.off_message)
        with self._lock:
            if self._model is not None:
                return self._model
            if self._failure and time.monotonic() - self._failure[0] < RETRY_AFTER_S:
                raise ModelLoadError(self._failure[1])
            why_not = unavailable(self.model_id)
            if why_not:  # decided in well under a second, instead of the hub client's ~30 s of retries
                message = self._unavailable_message(why_not)
                log.warning(message)
                self._failure = (time.monotonic(), message)
                raise ModelLoadError(message)
            try:
                self._model = self._build()
            except Exception as err:  # any failure (offline, wrong id, no weights) -> one sentence
                message = self._describe_failure(err)
                log.warning("%s (%s: %s)", message, type(err).__name__, err)
                self._failure = (time.monotonic(), message)
                raise ModelLoadError(message) from None
            self._failure = None
            return self._model

    def _build(self) -> Any:
        raise NotImplementedError

    def _describe_failure(self, err: Exception) -> str:
        raise NotImplementedError

    def _unavailable_message(self, why: str) -> str:
        return f"The model {self.model_id!r} could not be loaded: {why}."


HUB_PROBE_TIMEOUT_S = 5.0
NOT_CACHED = "it is not in the local cache and the Hugging Face Hub cannot be reached"


def unavailable(model_id: str) -> str | None:
    """Why the model surely can't be loaded, found quickly: a missing local path, or a hub model that is not
    cached while the hub is offline or does not answer one short request. None when it may load."""
    if Path(model_id).expanduser().exists():
        return None
    if model_id.startswith(("/", "./", "../", "~")):
        return "there is no model at that path"
    import huggingface_hub

    if isinstance(huggingface_hub.try_to_load_from_cache(model_id, "config.json"), str):
        return None
    if huggingface_hub.constants.HF_HUB_OFFLINE:  # the hub's own reading of HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE
        return "it is not in the local cache and the studio runs offline (HF_HUB_OFFLINE)"
    try:
        huggingface_hub.HfApi().model_info(model_id, timeout=HUB_PROBE_TIMEOUT_S)
    except huggingface_hub.errors.RepositoryNotFoundError:
        return "no such model was found (check the id or path)"
    except Exception:  # noqa: BLE001 - no network, DNS, proxy, timeout: all mean "can't be had now"
        return NOT_CACHED
    return None
