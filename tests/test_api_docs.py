"""/docs and /v1/openapi.json describe the OpenAI-compatible routes (before: /docs was 404 and the speech route
was in no API panel), behind the same API-key check as the routes."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from openai_api import speech_routes


def _client(api_key: str = "") -> TestClient:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)  # as Gradio builds its app: no docs of its own
    for route in speech_routes(studio=None, api_key=api_key):
        app.router.routes.append(route)
    return TestClient(app)


def test_the_docs_page_and_schema_describe_the_speech_route():
    client = _client()
    schema = client.get("/v1/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/audio/speech", "/v1/models", "/v1/audio/voices"}
    body = schema["paths"]["/v1/audio/speech"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SpeechBody"}
    fields = schema["components"]["schemas"]["SpeechBody"]["properties"]
    assert {"input", "voice", "reference_audio", "speakers"} <= set(fields)
    page = client.get("/docs")
    assert page.status_code == 200 and "POST /v1/audio/speech" in page.text and "<script" not in page.text


def test_the_docs_keep_the_api_key():
    client = _client(api_key="sesame")
    assert client.get("/docs").status_code == 401 and client.get("/v1/openapi.json").status_code == 401
    assert client.get("/docs", headers={"Authorization": "Bearer sesame"}).status_code == 200
