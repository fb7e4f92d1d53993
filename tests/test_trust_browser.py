"""A real browser (Debian's Chromium under Playwright): best of two with the take check shown beside the take,
and the Check a clip tab finding the watermark in an uploaded MP3."""

from __future__ import annotations

import pytest

from inference.audio.codec import decode_audio, encode_mp3
from inference.audio.watermark import Watermarker
from tests.conftest import OUTPUT
from tests.studio_server import run_studio
from tests.test_ui_browser import _short_takes, _studio_page, browser, mic_wav  # noqa: F401 - fixtures
from tests.tiny_speaker import build_tiny_speaker_model
from tests.tiny_whisper import build_tiny_whisper

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    whisper = build_tiny_whisper(OUTPUT / "cache" / "tiny-whisper-v1")
    speaker = build_tiny_speaker_model(OUTPUT / "cache" / "tiny-speaker-v1")
    log = tmp_path_factory.mktemp("trust-browser") / "server.log"
    with run_studio(log, "--asr-model", str(whisper), "--speaker-model", str(speaker)) as url:
        yield url
    assert "Traceback" not in log.read_text(), f"the server logged a traceback: {log}"


def test_best_of_two_shows_scores_and_the_check_tab_finds_the_mark(studio, browser, output_dir,  # noqa: F811
                                                                   speech_wav, tmp_path):
    marked = tmp_path / "marked.mp3"
    marked.write_bytes(encode_mp3(Watermarker(True).mark(decode_audio(speech_wav), 24_000), bitrate=128_000))
    with _studio_page(browser, studio, output_dir) as page:
        page.locator("#hvs-text textarea").fill("Two takes, the best one kept.")
        _short_takes(page)
        assert page.locator("#hvs-check-take input").is_checked()  # the take check is on by default
        box = page.locator("#hvs-candidates input[type=number]")
        box.fill("2")
        box.press("Enter")
        page.locator("#hvs-generate").click()
        info = page.locator("#hvs-info")
        info.get_by_text("Take check:").wait_for(timeout=180_000)
        text = info.inner_text()
        assert "words " in text and "% right" in text and "no reference clip" in text
        assert text.count("✔") == 1 and "words right" in text  # both candidates listed, one kept
        page.screenshot(path=str(output_dir / "best-of-two.png"), full_page=True)

        page.get_by_role("tab", name="Check a clip").click()
        page.locator("#hvs-check-clip input[type=file]").set_input_files(str(marked))
        page.locator("#hvs-check-clip audio, #hvs-check-clip button[aria-label='Play']").first.wait_for(
            state="attached", timeout=30_000)
        page.locator("#hvs-check").click()
        page.locator("#hvs-check-result").get_by_text("Watermark found").wait_for(timeout=60_000)
        page.screenshot(path=str(output_dir / "check-a-clip.png"), full_page=True)
