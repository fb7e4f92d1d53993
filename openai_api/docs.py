"""/docs and /v1/openapi.json: the OpenAI-compatible routes described (OpenAPI 3, built by FastAPI from the
routes themselves) and a plain page a person reads. Self-contained (no script from a CDN), behind the same
access check as the routes it describes."""

from __future__ import annotations

import html
from collections.abc import Callable

from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.requests import Request

from wire.openai_speech import EXTENSIONS, SpeechBody

TITLE = "Higgs Voice Studio: OpenAI-compatible speech API"
_REF = "#/components/schemas/{model}"
SPEECH_DOC = {
    "summary": "Speak a text (OpenAI's POST /v1/audio/speech)",
    "description": "OpenAI's speech request; `voice` names a preset voice, `smart` or a description; the "
                   f"studio's own fields ({', '.join(EXTENSIONS)}) clone a voice or tune sampling. Answers with "
                   "the audio (or server-sent events with stream_format=sse). Send `Authorization: Bearer <key>` "
                   "when the server has HVS_API_KEY.",
    "openapi_extra": {
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": _REF.format(
            model="SpeechBody")}}}},
        "responses": {"200": {"description": "The audio", "content": {
            "audio/mpeg": {}, "audio/wav": {}, "audio/flac": {}, "audio/opus": {}, "audio/aac": {},
            "text/event-stream": {}}}}},
}


def openapi_schema(routes: list[APIRoute]) -> dict:
    schema = get_openapi(title=TITLE, version="1", routes=routes)
    body = SpeechBody.model_json_schema(ref_template=_REF)
    parts = body.pop("$defs", {})
    schema.setdefault("components", {}).setdefault("schemas", {}).update({"SpeechBody": body, **parts})
    return schema


def docs_routes(routes: list[APIRoute], refusal: Callable[[Request], Response | None]) -> list[APIRoute]:
    """GET /docs (the page) and GET /v1/openapi.json (the schema) for `routes`; `refusal` is the routes' own
    access check: the answer to a caller who may not see them (401, 429), or None."""
    schema = openapi_schema(routes)

    def as_json(request: Request):
        return refusal(request) or JSONResponse(schema)

    def page(request: Request):
        return refusal(request) or HTMLResponse(docs_page(schema))

    return [APIRoute("/v1/openapi.json", as_json, methods=["GET"], include_in_schema=False),
            APIRoute("/docs", page, methods=["GET"], include_in_schema=False)]


def docs_page(schema: dict) -> str:
    """The schema as a page: each route, what it does, and the fields of the speech request."""
    e = html.escape
    parts = [f"<h1>{e(TITLE)}</h1><p>The raw description: <a href='v1/openapi.json'>v1/openapi.json</a> (OpenAPI "
             "3). The page's own endpoints (<code>/synthesize</code>, <code>/dialogue</code>, "
             "<code>/detect</code>, …) are in the <a href='./?view=api'>API panel</a>.</p>"]
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            parts.append(f"<h2><code>{e(method.upper())} {e(path)}</code></h2><p>{e(op.get('summary', ''))}</p>"
                         f"<p>{e(op.get('description', ''))}</p>")
    rows = "".join(f"<tr><td><code>{e(name)}</code></td><td>{e(_kind(field))}</td>"
                   f"<td>{e(str(field.get('default', '')))}</td><td>{e(field.get('description', ''))}</td></tr>"
                   for name, field in schema["components"]["schemas"]["SpeechBody"]["properties"].items())
    parts.append("<h2>The speech request's fields</h2><table><tr><th>field</th><th>type</th><th>default</th>"
                 f"<th>about</th></tr>{rows}</table>")
    parts.append("<h2>Example</h2><pre>curl -X POST http://HOST/v1/audio/speech -H 'Content-Type: "
                 "application/json' \\\n  -d '{\"input\": \"Hello there.\", \"voice\": \"smart\", "
                 "\"response_format\": \"wav\"}' -o hello.wav</pre>")
    style = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
             "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left}"
             "pre{background:#f3f3f3;padding:.8rem;overflow:auto}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width'><title>{e(TITLE)}</title><style>{style}</style></head><body>"
            f"{''.join(parts)}</body></html>")


def _kind(field: dict) -> str:
    if "enum" in field:
        return " | ".join(map(str, field["enum"]))
    if "anyOf" in field:
        return " | ".join(_kind(option) for option in field["anyOf"])
    return field.get("type") or field.get("$ref", "").rsplit("/", 1)[-1] or "object"
