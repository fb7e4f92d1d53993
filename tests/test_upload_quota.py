"""The ceiling on Gradio's upload folder (ui/upload_quota.py): one visitor's burst of large uploads cannot fill
the server's disk; past the ceiling uploads get a sentence, other routes go on."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.upload_quota import UploadQuota, folder_bytes

MB = 2**20


def _client(folder, max_bytes: int) -> TestClient:
    async def ok(request):
        return PlainTextResponse(f"read {len(await request.body())}")

    inner = Starlette(routes=[Route("/gradio_api/upload", ok, methods=["POST"]), Route("/healthz", ok)])
    return TestClient(UploadQuota(inner, max_bytes=max_bytes, folder=folder, recount_s=0.0))


def test_uploads_past_the_ceiling_are_refused_in_words_and_other_routes_go_on(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "old.wav").write_bytes(b"x" * MB)  # an hour's earlier uploads, in Gradio's subfolders
    assert folder_bytes(tmp_path) == MB
    client = _client(tmp_path, max_bytes=MB + MB // 2)
    assert client.post("/gradio_api/upload", content=b"y" * (MB // 4)).text == f"read {MB // 4}"
    refused = client.post("/gradio_api/upload", content=b"y" * MB)
    assert refused.status_code == 507
    assert "room for uploads is full" in refused.json()["error"] and "after an hour" in refused.json()["error"]
    assert client.get("/healthz").status_code == 200
    (tmp_path / "a" / "b" / "old.wav").unlink()  # Gradio's delete_cache removes it: uploads come back
    assert client.post("/gradio_api/upload", content=b"y" * MB).status_code == 200


def test_a_burst_within_one_count_is_counted_by_its_lengths(tmp_path):
    # the folder is measured at most every few seconds; uploads let in meanwhile count by their Content-Length
    async def ok(request):
        return PlainTextResponse("kept")

    inner = Starlette(routes=[Route("/gradio_api/upload", ok, methods=["POST"])])
    client = TestClient(UploadQuota(inner, max_bytes=3 * MB, folder=tmp_path, recount_s=3600))
    answers = [client.post("/gradio_api/upload", content=b"z" * MB).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 507, 507]


def test_a_chunked_upload_is_counted_as_it_comes(tmp_path):
    # no Content-Length (Transfer-Encoding: chunked): counted as 0, one request of ten 5 MB files went past the
    # ceiling while the same files with a length were refused
    client = _client(tmp_path, max_bytes=3 * MB)
    refused = client.post("/gradio_api/upload", content=(b"c" * MB for _ in range(5)))
    assert refused.status_code == 507 and "room for uploads is full" in refused.json()["error"]
    assert client.post("/gradio_api/upload", content=(b"c" * MB for _ in range(2))).text == f"read {2 * MB}"


def test_a_missing_folder_is_empty(tmp_path):
    assert folder_bytes(tmp_path / "not-yet") == 0
