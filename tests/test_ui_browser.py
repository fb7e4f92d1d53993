"""A real browser: Debian's Chromium under Playwright records the fake microphone, generates, plays back."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.studio_server import run_studio

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def mic_wav(tmp_path_factory) -> Path:
    """Speech at 48 kHz mono 16-bit, the format Chromium's fake capture device reads."""
    raw = tmp_path_factory.mktemp("mic") / "raw.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(raw),
                    "Hello, this is my own voice. I am recording a short sentence for the studio."], check=True)
    wav = raw.with_name("mic.wav")
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(raw), "-ar", "48000", "-ac", "1",
                    "-sample_fmt", "s16", str(wav)], check=True)
    return wav


def _browser(playwright, mic: Path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    return playwright.chromium.launch_persistent_context(
        tempfile.mkdtemp(prefix="hvs-chromium-"), executable_path=str(CHROMIUM), headless=True,
        viewport={"width": 1400, "height": 1100}, permissions=["microphone"],
        args=["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-audio-capture={mic}"],
    )


def _set_slider(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=False).first
    box.fill(str(value))
    box.press("Enter")


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    log = tmp_path_factory.mktemp("browser-studio") / "server.log"
    with run_studio(log) as url:
        yield url, log
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


@pytest.fixture(scope="module")
def browser(mic_wav):
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        context = _browser(p, mic_wav)
        yield context
        context.close()


@contextlib.contextmanager
def _studio_page(browser, url: str, output_dir: Path):
    """A fresh tab on the loaded studio; a failure leaves failure.png in the test's output folder."""
    failure = output_dir / "failure.png"
    failure.unlink(missing_ok=True)
    page = browser.new_page()
    try:
        page.goto(url)
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        yield page
    except Exception:
        page.screenshot(path=str(failure), full_page=True)
        raise
    finally:
        page.close()


def _short_takes(page) -> None:
    page.get_by_text("Advanced").click()
    _set_slider(page, "number input for Max length", 60)
    page.get_by_label("New random seed each take").uncheck()


def _generate(page, takes_before: int) -> None:
    page.locator("#hvs-generate").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.hvs-history')].filter(e => e.offsetParent !== null).length"
        f" > {takes_before}", timeout=120_000)


def test_record_type_generate_and_play(studio, browser, output_dir):
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        # Record a few seconds from the fake microphone.
        page.get_by_label("Clone a voice").check()
        clip = page.locator("#hvs-clip")
        clip.get_by_role("button", name="Record", exact=True).click()
        page.wait_for_timeout(4_000)
        clip.locator("button.stop-button").click()
        # The recording shows as a playable clip (waveform player) once the server has it.
        clip.locator("audio, [data-testid='waveform-Reference voice'] button[aria-label='Play']").first.wait_for(
            state="attached", timeout=30_000)
        page.wait_for_timeout(1_500)

        # Text with a tag inserted by its button, short takes, fixed seed.
        page.locator("#hvs-text textarea").fill("Hello from the browser test.")
        page.get_by_role("button", name="[laugh]").click()
        assert "[laugh]" in page.locator("#hvs-text textarea").input_value()
        page.get_by_label("storytelling").check()
        _short_takes(page)

        # Cloning needs the responsible-use checkbox: without it, a readable refusal.
        page.locator("#hvs-generate").click()
        page.get_by_text("right to use this voice").first.wait_for(timeout=30_000)
        page.locator("#hvs-consent input").check()
        page.locator("#hvs-generate").click()

        info = page.locator("#hvs-info")
        info.get_by_text("real-time factor").wait_for(timeout=120_000)
        # The player's file decodes in the browser as real audio of the take's length.
        href = page.locator("#hvs-output a[download]").first.get_attribute("href", timeout=10_000)
        assert href and href.endswith(".wav"), f"no downloadable take: {href}"
        decoded = page.evaluate(
            """async (href) => {
                const bytes = await (await fetch(href)).arrayBuffer();
                const audio = await new OfflineAudioContext(1, 1, 24000).decodeAudioData(bytes);
                return {duration: audio.duration, rate: audio.sampleRate};
            }""", href)
        assert decoded["duration"] > 0.1, decoded
        # The waveform player loaded it too: it shows the take's length.
        if decoded["duration"] >= 1:
            page.wait_for_function(
                "() => /0:0[1-9]|[1-9]:\\d\\d/.test(document.querySelector('#hvs-output').innerText)",
                timeout=15_000)
        assert "real-time factor" in info.inner_text() and "seed" in info.inner_text()
        # Streaming: the live player received the take while it was generated.
        live = page.evaluate("() => { const a = document.querySelector('#hvs-live audio'); return a && a.src; }")
        assert live, "the live player got no stream"
        # "What the model is given": the rendered prompt with the tone's scene and the tagged text.
        page.get_by_text("What the model is given").click()
        page.get_by_role("button", name="Show full prompt").click()
        prompt = page.locator("#hvs-prompt")
        prompt.get_by_text("<|scene_desc_start|>").first.wait_for(timeout=30_000)
        assert "telling a story" in prompt.inner_text() and "<SE>[Laughter]</SE>" in prompt.inner_text()
        page.screenshot(path=str(output_dir / "studio.png"), full_page=True)

        # The personal library: save the clip in this browser, reload, and it is still there.
        page.get_by_text("My voices (kept only in this browser)").click()
        page.get_by_label("Name", exact=True).fill("Test voice")
        page.get_by_role("button", name="Save clip").click()
        page.get_by_text("Saved 'Test voice' in this browser").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1_000)  # BrowserState writes localStorage after the event
        page.reload()
        page.wait_for_selector("#hvs-generate", timeout=60_000)
        page.get_by_label("Clone a voice").check()
        page.get_by_text("My voices (kept only in this browser)").click()
        saved = page.get_by_label("Saved voices")
        page.wait_for_function("() => document.querySelector('#hvs-saved input')?.value === 'Test voice'",
                               timeout=30_000)
        page.get_by_role("button", name="Use", exact=True).click()
        page.locator("#hvs-clip").get_by_text("0:00").first.wait_for(timeout=30_000)
        assert saved.count() >= 1
        page.screenshot(path=str(output_dir / "library.png"), full_page=True)


def test_preset_described_and_smart_voices_fill_the_history(studio, browser, output_dir):
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-text textarea").fill("Three voices, one sentence.")
        _short_takes(page)
        page.get_by_label("Preset voice").check()  # a shipped voice: no consent needed
        _generate(page, 0)
        page.get_by_label("Describe a voice").check()
        page.get_by_label("outdoor").check()
        _generate(page, 1)
        page.get_by_label("Smart voice").check()
        _generate(page, 2)
        labels = page.locator(".hvs-history:visible [data-testid='block-label']").all_inner_texts()
        assert len(labels) == 3 and "Smart voice" in labels[0] and "described" in labels[1], labels
        assert "synthetic" in labels[2].lower(), labels
        page.get_by_text("What the model is given").click()
        prompt = page.locator("#hvs-prompt").inner_text()
        assert "outdoors" in prompt and "The speaker's voice" not in prompt  # smart voice: setting, no description
        page.screenshot(path=str(output_dir / "history.png"), full_page=True)
