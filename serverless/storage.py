"""Where the take goes: an S3-compatible bucket (presigned URL) when configured, else base64 in the job output.

Configuration comes only from the worker's settings (HVS_S3_*, read by settings.py), never from the job,
and the keys are never logged.
An upload that keeps failing falls back to base64 with a warning: the audio is never lost.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class S3Config:
    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    prefix: str = "takes/"
    url_expiry_s: int = 3600
    attempts: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 10.0  # the most one upload may take: a frozen endpoint costs a job this, once
    cooldown_s: float = 60.0  # after a failed delivery, S3 is skipped (base64, with a warning) for this long

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Config | None:
        """The HVS_S3_* settings (checked by settings.py); None when no bucket is named (audio goes back as base64)."""
        if not settings.s3_bucket:
            if settings.s3_endpoint_url:
                log.warning("an S3 endpoint is set but no bucket (HVS_S3_BUCKET): returning audio as base64")
            return None
        return cls(
            bucket=settings.s3_bucket, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
            access_key_id=settings.s3_access_key_id, secret_access_key=settings.s3_secret_access_key,
            prefix=settings.s3_prefix.strip("/") + "/", url_expiry_s=settings.s3_url_expiry_s,
            attempts=settings.s3_attempts, backoff_s=settings.s3_backoff_s, timeout_s=settings.s3_timeout_s,
            cooldown_s=settings.s3_cooldown_s,
        )

    def describe(self) -> dict:
        """Safe to show in a health job: no keys."""
        host = urlsplit(self.endpoint_url).netloc if self.endpoint_url else "s3.amazonaws.com"
        return {"s3": True, "bucket": self.bucket, "endpoint": host, "region": self.region,
                "url_expiry_s": self.url_expiry_s}


class Storage:
    """Delivers encoded audio: `deliver(...)` returns the output fields and any warnings."""

    def __init__(self, config: S3Config | None) -> None:
        self.config = config
        self._client = None
        self._skip_until = 0.0  # monotonic time until which S3 is not tried again

    def describe(self) -> dict:
        return self.config.describe() if self.config else {"s3": False}

    def deliver(self, audio: bytes, content_type: str, key: str) -> tuple[dict, list[str]]:
        if self.config is None:
            return inline(audio), []
        full_key = self.config.prefix + key
        wait_s = self._skip_until - time.monotonic()
        if wait_s > 0:
            return inline(audio), [f"S3 failed shortly before this job, so it was not tried again (next try in "
                                    f"{wait_s:.0f} s); the audio is returned as base64 instead."]
        last_error, attempt = "", 0
        for attempt in range(1, self.config.attempts + 1):
            try:
                url = self._upload(audio, content_type, full_key)
                return {"storage": "s3", "audio_url": url, "s3_bucket": self.config.bucket, "s3_key": full_key,
                        "url_expires_in_s": self.config.url_expiry_s}, []
            except Exception as err:  # botocore raises many kinds; every one means "not stored"
                last_error = _describe_error(err)
                log.warning("S3 upload of %s failed (attempt %d/%d): %s", full_key, attempt, self.config.attempts,
                            last_error)
                if "Timeout" in type(err).__name__:  # a frozen endpoint: retrying would only wait again
                    break
                if attempt < self.config.attempts:
                    time.sleep(self.config.backoff_s * 2 ** (attempt - 1))
        self._skip_until = time.monotonic() + self.config.cooldown_s
        tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
        warning = (f"The audio could not be stored in S3 after {tries} ({last_error}); it is returned as base64 "
                   f"instead, and S3 is skipped for the next {self.config.cooldown_s:.0f} s.")
        return inline(audio), [warning]

    def _upload(self, audio: bytes, content_type: str, key: str) -> str:
        """Raises UploadTimeout after timeout_s in all. botocore's timeouts are per socket operation, and a
        PUT to a frozen endpoint waits out several (22.8 s at a 10 s timeout); the upload left behind ends
        on those (a late success only leaves an unused object)."""
        client = self._get_client()  # (its first creation imports boto3: not counted)
        outcome: list = []

        def put() -> None:
            try:
                client.put_object(Bucket=self.config.bucket, Key=key, Body=audio, ContentType=content_type)
                outcome.append(None)
            except Exception as err:  # noqa: BLE001 - raised on the job's thread below
                outcome.append(err)

        uploader = threading.Thread(target=put, name="s3-upload", daemon=True)
        uploader.start()
        uploader.join(self.config.timeout_s)
        if not outcome:
            raise UploadTimeout(f"no answer in {self.config.timeout_s:g} s")
        if outcome[0] is not None:
            raise outcome[0]
        return client.generate_presigned_url(
            "get_object", Params={"Bucket": self.config.bucket, "Key": key}, ExpiresIn=self.config.url_expiry_s
        )

    def _get_client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            cfg = self.config
            self._client = boto3.client(
                "s3",
                endpoint_url=cfg.endpoint_url,
                region_name=cfg.region,
                aws_access_key_id=cfg.access_key_id,
                aws_secret_access_key=cfg.secret_access_key,
                config=Config(
                    signature_version="s3v4",
                    # Path-style works with every S3-compatible server (MinIO, R2, B2, moto); AWS keeps its default.
                    s3={"addressing_style": "path" if cfg.endpoint_url else "auto"},
                    retries={"max_attempts": 1, "mode": "standard"},  # our own retry loop has the backoff
                    connect_timeout=min(cfg.timeout_s, 5.0),
                    read_timeout=cfg.timeout_s,
                ),
            )
        return self._client


class UploadTimeout(Exception):
    """An upload that took longer than HVS_S3_TIMEOUT_S in all."""


def inline(audio: bytes) -> dict:
    return {"storage": "base64", "audio_base64": base64.b64encode(audio).decode("ascii")}


def _describe_error(err: Exception) -> str:
    """A short reason without URLs or headers (which could carry signatures)."""
    response = getattr(err, "response", None)  # ClientError has one; connection errors have none (or None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(err).__name__}{': ' + code if code else ''}"
