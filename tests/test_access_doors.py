"""The key and the login on a running studio (issue 19, holes 5 and 6): HVS_API_KEY guards every programmatic
door (Gradio's API routes, MCP, /v1) while the open page keeps working; only Bearer and Basic count; a 401
says what this studio takes; wrong passwords and keys lock out their own client address only, for a window."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
import soundfile as sf
from gradio_client import Client

from tests.studio_server import run_studio
from tests.test_ui_browser import browser, mic_wav  # noqa: F401 - fixtures

KEY, LOGIN, PASSWORD = "key-5d1e9a", "ann", "pw-2b7c41"
BEARER = {"Authorization": f"Bearer {KEY}"}
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()}
LOCKOUT = {"HVS_LOGIN_ATTEMPTS": "3", "HVS_LOGIN_LOCKOUT_S": "4", "HVS_ASR_MODEL": "none"}
MCP_HELLO = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def _from(address: str) -> httpx.Client:
    """A client whose requests come from `address` (any 127.x.y.z reaches the studio on loopback)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    """A studio with a key and no login, and MCP."""
    log = tmp_path_factory.mktemp("keyed") / "server.log"
    with run_studio(log, env={"HVS_API_KEY": KEY, "HVS_MCP": "1", **LOCKOUT}) as url:
        yield url, log
    assert KEY not in log.read_text()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A studio with a key and a login, and MCP."""
    log = tmp_path_factory.mktemp("both") / "server.log"
    with run_studio(log, env={"HVS_API_KEY": KEY, "HVS_AUTH": f"{LOGIN}:{PASSWORD}", "HVS_MCP": "1", **LOCKOUT}) as url:
        yield url, log
    assert PASSWORD not in log.read_text() and KEY not in log.read_text()


def test_the_key_guards_gradio_api_and_mcp(keyed):
    url, _ = keyed
    for door in ("/gradio_api/call/synthesize", "/gradio_api/queue/join", "/gradio_api/upload",
                 "/gradio_api/run/synthesize"):
        refused = httpx.post(url + door, json={"data": []}, timeout=30)
        assert refused.status_code == 401, door
        assert "HVS_API_KEY" in refused.json()["detail"] and "log in" not in refused.json()["detail"]
    assert httpx.post(f"{url}/gradio_api/mcp/", json=MCP_HELLO, headers=MCP_HEADERS, timeout=30).status_code == 401
    with pytest.raises(Exception):  # noqa: B017 - gradio_client words it its own way
        Client(url, verbose=False).predict(api_name="/synthesize", text="No key.", max_new_tokens=20)
    # with the key: gradio_client sends it on every request (the call, the queue, the file download), MCP too
    take = Client(url, headers=BEARER, verbose=False).predict(api_name="/synthesize", text="Keyed.", max_new_tokens=20)
    assert sf.info(take).samplerate == 24_000
    hello = httpx.post(f"{url}/gradio_api/mcp/", json=MCP_HELLO, headers={**MCP_HEADERS, **BEARER}, timeout=30)
    assert hello.status_code == 200 and "serverInfo" in hello.text
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200


def test_the_open_page_keeps_its_own_routes(keyed):
    """The page shell hands a session cookie to whoever loads it; the page's own routes take it."""
    url, _ = keyed
    with httpx.Client(timeout=30) as visitor:
        assert visitor.get(url + "/").status_code == 200
        assert any(name.startswith("hvs-page-") for name in visitor.cookies)
        upload = visitor.post(f"{url}/gradio_api/upload", files={"files": ("a.wav", b"RIFF" + b"\0" * 64)})
        assert upload.status_code == 200
        cookie = "; ".join(f"{name}={value}" for name, value in visitor.cookies.items())
    # the page's traffic (queue/join, queue/data, file=), with nothing but that cookie
    take = Client(url, headers={"Cookie": cookie}, verbose=False).predict(api_name="/synthesize", text="From the page.",
                                                                          max_new_tokens=20)
    assert sf.info(take).samplerate == 24_000


@pytest.mark.browser
def test_the_open_page_generates_in_a_browser(keyed, browser, output_dir):  # noqa: F811
    url, _ = keyed
    page = browser.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        page.locator("#hvs-text textarea").fill("The open page still speaks.")
        page.get_by_label("Preset voice").check()
        page.locator("#hvs-generate").click()
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(output_dir / "failure.png"), full_page=True)
        raise
    finally:
        page.close()


def test_wrong_keys_lock_out_their_address_only_until_the_window_ends(keyed):
    url, _ = keyed
    with _from("127.0.0.2") as guesser, _from("127.0.0.3") as other:
        wrong = {"Authorization": "Bearer not-the-key"}
        assert [guesser.get(f"{url}/v1/models", headers=wrong).status_code for _ in range(3)] == [401] * 3
        locked = guesser.get(f"{url}/v1/models", headers=BEARER)  # even the right key, while locked
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 4
        assert "try again" in locked.json()["error"]["message"]
        assert guesser.post(f"{url}/gradio_api/mcp/", json=MCP_HELLO, headers={**MCP_HEADERS, **BEARER}
                            ).status_code == 429  # one count for every door
        assert other.get(f"{url}/v1/models", headers=BEARER).status_code == 200  # another client: let in
        time.sleep(int(locked.headers["retry-after"]) + 0.5)
        assert guesser.get(f"{url}/v1/models", headers=BEARER).status_code == 200


def test_with_a_key_and_a_login_either_opens_every_door_and_nothing_else(both):
    url, _ = both
    refused = httpx.post(f"{url}/gradio_api/call/synthesize", json={"data": []}, timeout=30)
    assert refused.status_code == 401
    assert all(word in refused.json()["detail"] for word in ("Bearer", "HVS_API_KEY", "Basic", "log in"))
    v1 = httpx.get(f"{url}/v1/models", timeout=30)
    assert v1.status_code == 401 and "Basic" in v1.json()["error"]["message"]
    assert "Bearer" in v1.headers["www-authenticate"] and "Basic" in v1.headers["www-authenticate"]
    with _from("127.0.0.6") as caller:  # (its own address: these count as wrong guesses)
        for scheme in ("Digest", "Token", "Negotiate"):  # the real password under any other scheme
            headers = {"Authorization": f"{scheme} {LOGIN}:{PASSWORD}"}
            assert caller.get(f"{url}/v1/models", headers=headers).status_code == 401, scheme
    for headers in (BEARER, BASIC):  # through Gradio's own login check too
        take = Client(url, headers=headers, verbose=False).predict(api_name="/synthesize", text="Either.",
                                                                   max_new_tokens=20)
        assert sf.info(take).samplerate == 24_000
        assert httpx.get(f"{url}/v1/models", headers=headers, timeout=30).status_code == 200


def test_mcp_tools_run_under_a_login(both):
    # Gradio's MCP server runs each tool through a gradio_client of its own, made without credentials: under
    # HVS_AUTH every tool call answered "Could not load http://... as credentials were not provided".
    url, _ = both
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "synthesize", "arguments": {"text": "An agent speaks.", "max_new_tokens": 20}}}
    for headers in (BEARER, BASIC):
        answer = httpx.post(f"{url}/gradio_api/mcp/", json=call, headers={**MCP_HEADERS, **headers}, timeout=120)
        assert answer.status_code == 200 and '"isError":false' in answer.text and ".wav" in answer.text, answer.text
    assert httpx.post(f"{url}/gradio_api/mcp/", json=call, headers=MCP_HEADERS, timeout=30).status_code == 401


def test_wrong_passwords_at_the_login_page_lock_out_their_address_only(both):
    url, _ = both
    wrong, right = {"username": LOGIN, "password": "guess"}, {"username": LOGIN, "password": PASSWORD}
    with _from("127.0.0.4") as guesser, _from("127.0.0.5") as other:
        assert [guesser.post(f"{url}/login", data=wrong).status_code for _ in range(3)] == [400] * 3
        locked = guesser.post(f"{url}/login", data=right)
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 4
        assert guesser.get(f"{url}/v1/models", headers=BASIC).status_code == 429
        assert other.post(f"{url}/login", data=right).status_code == 200  # the real user, elsewhere
        assert other.get(f"{url}/gradio_api/upload_progress?upload_id=x").status_code != 401  # with its cookie
        time.sleep(int(locked.headers["retry-after"]) + 0.5)
        assert guesser.post(f"{url}/login", data=right).status_code == 200
