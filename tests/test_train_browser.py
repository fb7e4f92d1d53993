"""The Train a voice tab in a real browser, on the studio app.py starts: the GPU-sharing rule is on the tab, a
recording is uploaded and cut, and too little speech gets the sentence that says how much is needed."""

from __future__ import annotations

import pytest

from tests.test_training_data import recording
from tests.test_ui_browser import _studio_page, browser, mic_wav, studio  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def test_upload_and_cut_a_short_recording_says_how_much_speech_is_needed(studio, browser, output_dir, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    url, _ = studio
    talk = recording(tmp_path)  # three sentences, about 10 s of speech: under the studio's one minute
    with _studio_page(browser, url, output_dir) as page:
        page.get_by_role("tab", name="Train", exact=True).click()
        assert "Training pauses between steps while takes" in page.locator("#hvs-train-intro").inner_text()
        page.locator("#hvs-train-name textarea, #hvs-train-name input").first.fill("ada")
        page.locator("#hvs-train-files input[type=file]").set_input_files(str(talk))
        expect(page.locator("#hvs-train-files")).to_contain_text("talk", timeout=30_000)  # the file is listed
        page.locator("#hvs-train-cut").click()
        notes = page.locator("#hvs-train-notes")
        expect(notes).to_contain_text("training needs at least 60 s", timeout=60_000)
        assert page.get_by_role("tab").all_inner_texts()[:4] == ["Voice", "Dialogue", "Check a clip", "Train"]
        assert page.locator("button[aria-label='Share'], [title='Share']").count() == 0
