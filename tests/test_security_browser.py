"""With HVS_AUTH set, a real browser logs in through Gradio's login page and makes a take; every route
of that take (the live stream's playlist, its segments, the whole-take file) then needs the login."""

from __future__ import annotations

import pytest
import requests

from tests.studio_server import healthz, run_studio
from tests.test_ui_browser import browser, mic_wav  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

BROWSER_KEY = "browser-key-3f9a1c"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    log = tmp_path_factory.mktemp("guarded-browser") / "server.log"
    env = {"HVS_AUTH": "ann:pw-71c3e0", "HVS_ASR_MODEL": "none", "HVS_BROWSER_SECRET": BROWSER_KEY}
    with run_studio(log, env=env) as url:
        yield url, log
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


def test_the_live_stream_of_a_take_needs_the_login(guarded, browser, output_dir):  # noqa: F811
    url, log = guarded
    page = browser.new_page()
    streamed: list[str] = []
    page.on("request", lambda r: streamed.append(r.url) if "/gradio_api/stream/" in r.url else None)
    try:
        page.goto(url)
        page.get_by_label("username").fill("ann")
        page.get_by_label("password").fill("pw-71c3e0")
        page.get_by_role("button", name="Login").click()
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        page.locator("#hvs-text textarea").fill("A take that streams.")
        page.get_by_label("Preset voice").check()
        page.get_by_text("Advanced").click()  # a longer take: the stream is checked while it is live
        page.get_by_label("number input for Max length", exact=False).first.fill("400")
        page.get_by_label("number input for Max length", exact=False).first.press("Enter")
        page.locator("#hvs-generate").click()
        page.wait_for_function("() => document.querySelector('#hvs-live audio')?.src", timeout=60_000)
        cookies = {c["name"]: c["value"] for c in page.context.cookies() if c["domain"] in ("127.0.0.1", "localhost")}
        playlist = next(u for u in streamed if "playlist.m3u8" in u)
        segments: list[str] = []
        for _ in range(100):  # until the playlist lists a segment
            listing = requests.get(playlist, cookies=cookies, timeout=10)
            assert listing.status_code == 200 and "#EXTM3U" in listing.text
            if segments := [line for line in listing.text.splitlines() if line and not line.startswith("#")]:
                break
            page.wait_for_timeout(200)
        segment = playlist.split("playlist.m3u8")[0] + segments[0]
        whole = playlist.split("playlist.m3u8")[0] + "playlist-file"
        for route in (playlist, segment, whole):
            assert requests.get(route, timeout=10).status_code == 401, route  # no cookie: refused
            assert requests.get(route, cookies=cookies, timeout=30).status_code == 200, route  # logged in: served
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
    except Exception:
        page.screenshot(path=str(output_dir / "failure.png"), full_page=True)
        raise
    finally:
        page.close()
    # Gradio's own stream actions (posting to or closing a stream) are refused without a login too.
    assert requests.post(f"{url}/gradio_api/stream/anything/close", timeout=10).status_code == 401
    assert healthz(url)["status"] == "ok"  # load balancers still need no password


def test_the_browser_key_reaches_only_logged_in_pages(guarded):
    """docs/security.md says so: the voice library's key is not a secret from visitors (Gradio sends it to the
    page in /config), and with HVS_AUTH only visitors who logged in receive it."""
    url, _ = guarded
    anonymous = requests.Session()
    for route in ("/", "/config", "/gradio_api/info"):
        response = anonymous.get(url + route, timeout=10)
        assert BROWSER_KEY not in response.text, route
    assert anonymous.get(url + "/config", timeout=10).status_code == 401
    member = requests.Session()
    assert member.post(f"{url}/login", data={"username": "ann", "password": "pw-71c3e0"}, timeout=10).ok
    assert BROWSER_KEY in member.get(f"{url}/config", timeout=10).text
