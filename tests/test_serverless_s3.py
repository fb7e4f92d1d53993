"""S3 output against a local S3-compatible server (moto in server mode) started by the test, on 127.0.0.1."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator

import boto3
import pytest
import requests

from inference.audio.codec import decode_audio
from serverless.storage import S3Config, Storage
from settings import Settings
from tests.processes import free_port
from tests.worker_support import LOGS, local_worker, runsync

BUCKET = "takes-test"
KEYS = {"HVS_S3_ACCESS_KEY_ID": "test-access-key", "HVS_S3_SECRET_ACCESS_KEY": "test-secret-key-never-logged"}
JOB = {"text": "Stored in a bucket.", "max_new_tokens": 25, "seed": 5}


@pytest.fixture(scope="module")
def s3_server() -> Iterator[dict]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEYS["HVS_S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["HVS_S3_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=BUCKET)
    state = {"endpoint": endpoint, "client": client, "server": server, "running": True}
    try:
        yield state
    finally:
        if state["running"]:
            server.stop()


@pytest.fixture(scope="module")
def s3_worker(s3_server, voices_dir) -> Iterator[str]:
    env = {"HVS_S3_BUCKET": BUCKET, "HVS_S3_ENDPOINT_URL": s3_server["endpoint"], "HVS_S3_REGION": "us-east-1",
           "HVS_S3_URL_EXPIRY": "600", "HVS_S3_ATTEMPTS": "2", "HVS_S3_BACKOFF_S": "0.05",
           "HVS_VOICES_DIR": str(voices_dir), "HVS_WARMUP": "0", **KEYS}
    with local_worker(env, "s3") as url:
        yield url


def s3_config(env: dict) -> S3Config | None:
    return S3Config.from_settings(Settings.from_env(env))


def test_config_from_env_hides_keys():
    config = s3_config({"BUCKET_NAME": "b", "BUCKET_ENDPOINT_URL": "https://r2.example.com",
                        "BUCKET_ACCESS_KEY_ID": "AKIA-SECRET", "BUCKET_SECRET_ACCESS_KEY": "s3cr3t",
                        "HVS_S3_PREFIX": "/voice/"})
    assert config.bucket == "b" and config.endpoint_url == "https://r2.example.com" and config.prefix == "voice/"
    assert config.access_key_id == "AKIA-SECRET"
    assert "SECRET" not in repr(config) and "s3cr3t" not in repr(config) and "s3cr3t" not in str(config.describe())
    assert s3_config({}) is None
    with pytest.raises(ValueError, match="HVS_S3_URL_EXPIRY must be between"):
        s3_config({"HVS_S3_BUCKET": "b", "HVS_S3_URL_EXPIRY": "99999999"})


def test_job_uploads_and_presigned_url_serves_the_same_bytes(s3_worker, s3_server, worker_url):
    (health,) = runsync(s3_worker, {"health": True})
    assert health["storage"]["s3"] is True and health["storage"]["bucket"] == BUCKET
    assert "secret" not in str(health).lower()

    (result,) = runsync(s3_worker, {**JOB, "s3_prefix": "team-a"})
    assert result["storage"] == "s3" and "audio_base64" not in result, result
    assert result["s3_key"].startswith("takes/team-a/") and result["s3_key"].endswith(".wav")
    assert result["url_expires_in_s"] == 600 and "X-Amz-Expires=600" in result["audio_url"]

    downloaded = requests.get(result["audio_url"], timeout=30)
    assert downloaded.status_code == 200
    stored = s3_server["client"].get_object(Bucket=BUCKET, Key=result["s3_key"])
    assert stored["ContentType"] == "audio/wav"
    assert downloaded.content == stored["Body"].read()
    assert len(downloaded.content) == result["bytes"]
    assert abs(len(decode_audio(downloaded.content)) / 24_000 - result["duration_s"]) < 0.01
    # The same job on the base64 worker (same checkpoint, same seed) gives the very same file.
    (inline,) = runsync(worker_url, JOB)
    assert base64.b64decode(inline["audio_base64"]) == downloaded.content

    worker_log = (LOGS / "s3.log").read_text()
    for secret in (*KEYS.values(), "X-Amz-Signature"):
        assert secret not in worker_log


def test_mp3_upload(s3_worker, s3_server):
    (result,) = runsync(s3_worker, {**JOB, "output": "mp3"})
    assert result["storage"] == "s3" and result["s3_key"].endswith(".mp3")
    body = requests.get(result["audio_url"], timeout=30).content
    assert s3_server["client"].head_object(Bucket=BUCKET, Key=result["s3_key"])["ContentType"] == "audio/mpeg"
    assert len(decode_audio(body)) > 0


def test_s3_down_falls_back_to_base64(s3_worker, s3_server):
    s3_server["server"].stop()
    s3_server["running"] = False
    (result,) = runsync(s3_worker, JOB)
    assert result["storage"] == "base64" and "audio_url" not in result
    assert len(decode_audio(base64.b64decode(result["audio_base64"]))) > 0
    assert any("could not be stored in S3 after 2 attempts" in w for w in result["warnings"]), result["warnings"]


def test_storage_retries_then_falls_back_in_process():
    storage = Storage(S3Config(bucket="b", endpoint_url=f"http://127.0.0.1:{free_port()}", attempts=3,
                               backoff_s=0.01, access_key_id="k", secret_access_key="s"))
    fields, warnings = storage.deliver(b"RIFF....", "audio/wav", "x.wav")
    assert fields == {"storage": "base64", "audio_base64": base64.b64encode(b"RIFF....").decode()}
    assert "after 3 attempts" in warnings[0] and "EndpointConnectionError" in warnings[0]


def test_a_server_that_hangs_up_mid_request_still_falls_back():
    # Accepts each connection and closes it at once: botocore raises an error that carries no response.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    accepted, done = [], threading.Event()

    def hang_up() -> None:
        for _ in range(400):  # bounded: ~20 s at most
            if done.is_set():
                return
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        storage = Storage(S3Config(bucket="b", endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                                   attempts=2, backoff_s=0.01, access_key_id="k", secret_access_key="s"))
        fields, warnings = storage.deliver(b"RIFF....", "audio/wav", "x.wav")
    finally:
        done.set()
        thread.join(timeout=10)
        listener.close()
    assert accepted, "the client never reached the server"
    assert fields["storage"] == "base64" and base64.b64decode(fields["audio_base64"]) == b"RIFF...."
    assert "after 2 attempts" in warnings[0] and "Error" in warnings[0]


def test_a_frozen_endpoint_costs_one_timeout_then_is_skipped_for_a_while():
    """Accepts connections and never answers. Before: every job waited minutes (188 s) on it, then the
    first job still waited three times the timeout (botocore's timeouts are per socket operation)."""
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    accepted, done = [], threading.Event()

    def accept_and_ignore() -> None:
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        storage = Storage(S3Config(bucket="b", endpoint_url=f"http://127.0.0.1:{listener.getsockname()[1]}",
                                   attempts=3, backoff_s=0.01, access_key_id="k", secret_access_key="s",
                                   timeout_s=2.0, cooldown_s=60))
        storage._get_client()  # (importing boto3 is not the endpoint's time)
        started = time.monotonic()
        fields, warnings = storage.deliver(b"RIFF....", "audio/wav", "x.wav")
        assert time.monotonic() - started < 3.5  # the timeout once, in all (it took 6.5 s)
        assert fields["storage"] == "base64" and "UploadTimeout" in warnings[0] and "skipped" in warnings[0]
        seen = len(accepted)
        fields, warnings = storage.deliver(b"RIFF....", "audio/wav", "y.wav")  # the next job: no waiting at all
        assert fields["storage"] == "base64" and "not tried again" in warnings[0]
        assert len(accepted) == seen
    finally:
        done.set()
        thread.join(timeout=10)
        for conn in accepted:
            conn.close()
        listener.close()


def test_s3_timeouts_and_cooldown_come_from_the_environment():
    config = s3_config({"HVS_S3_BUCKET": "b", "HVS_S3_TIMEOUT_S": "2.5", "HVS_S3_COOLDOWN_S": "0"})
    assert config.timeout_s == 2.5 and config.cooldown_s == 0
    with pytest.raises(ValueError, match="HVS_S3_TIMEOUT_S must be between"):
        s3_config({"HVS_S3_BUCKET": "b", "HVS_S3_TIMEOUT_S": "0"})
