"""Issue 20 in a real browser: a clip checked when it arrives, problems in one status line that clear when the
input changes, Check a clip's two signals, one click to hear an example, the API linked on every screen."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from tests.test_ui_browser import _status, _studio_page, browser, mic_wav, studio  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def _toasts(page) -> int:
    return page.locator(".toast-body:visible").count()


def _refused_on_arrival(page, file) -> None:
    """Consent ticked, then a file that is no audio: the studio's sentence, and the consent goes with the clip."""
    page.locator("#hvs-consent input").check()
    page.locator("#hvs-clip input[type=file]").set_input_files(str(file))
    page.locator("#hvs-status").get_by_text("This file is not audio we can read").wait_for(timeout=30_000)
    assert not page.locator("#hvs-consent input").is_checked()  # consent was for that clip


def _no_clip_no_take(page) -> None:
    """Consent ticked without a clip: Generate says so, and no other voice speaks in its place."""
    page.locator("#hvs-consent input").check()
    page.locator("#hvs-generate").click()
    page.locator("#hvs-status").get_by_text("there is no clip to clone").wait_for(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('#hvs-generate').disabled", timeout=30_000)
    assert page.locator("#hvs-output a[download]").count() == 0 and _toasts(page) == 0


def test_a_file_that_is_not_audio_is_refused_when_it_arrives(studio, browser, output_dir, tmp_path):  # noqa: F811
    url, _ = studio
    fake = tmp_path / "notes.wav"
    fake.write_text("This is a text file renamed to look like audio.")
    with _studio_page(browser, url, output_dir) as page:
        _refused_on_arrival(page, fake)
        page.wait_for_function("() => !document.querySelector('#hvs-voice-note').innerText.includes('Cloning')",
                               timeout=10_000)  # the unreadable clip was dropped
        page.locator("#hvs-text textarea").fill("Who speaks now?")
        _no_clip_no_take(page)
        # Editing the text clears the problem.
        page.locator("#hvs-text textarea").fill("Who speaks now, then?")
        page.wait_for_function("() => !document.querySelector('#hvs-status').innerText.includes('⚠️')",
                               timeout=10_000)


def test_a_short_clip_is_warned_about_on_arrival(studio, browser, output_dir, tmp_path):  # noqa: F811
    url, _ = studio
    short = tmp_path / "short.wav"
    raw = tmp_path / "raw.wav"
    subprocess.run(["espeak-ng", "-w", str(raw), "Hi there."], check=True)
    wave, rate = sf.read(raw)
    sf.write(short, np.asarray(wave[: int(1.5 * rate)]), rate)
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-clip input[type=file]").set_input_files(str(short))
        page.locator("#hvs-status").get_by_text("is only").wait_for(timeout=30_000)
        assert "5-15 s" in _status(page)
        page.locator("#hvs-voice-note").get_by_text("Cloning your clip").wait_for(timeout=10_000)


def test_problems_use_the_status_line_and_go_when_the_input_changes(studio, browser, output_dir, tmp_path):  # noqa: F811
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-generate").click()  # no text
        page.locator("#hvs-status").get_by_text("no text to speak").wait_for(timeout=30_000)
        page.locator("#hvs-text textarea").fill("Fixed.")
        page.wait_for_function("() => !document.querySelector('#hvs-status').innerText.includes('no text')",
                               timeout=10_000)
        # Dialogue: an empty script is called a script, and the problem goes once one is typed.
        page.get_by_role("tab", name="Dialogue").click()
        page.locator("#hvs-dlg-generate").click()
        progress = page.locator("#hvs-dlg-progress")
        progress.get_by_text("There is no script to speak").wait_for(timeout=30_000)
        page.locator("#hvs-dlg-script textarea").fill("Alice: Hello.")
        page.wait_for_function("() => !document.querySelector('#hvs-dlg-progress').innerText.includes('⚠️')",
                               timeout=10_000)
        # Check a clip: a bad file is said in the tab's own line, not in a toast that vanishes.
        fake = tmp_path / "notes.mp3"
        fake.write_text("not audio")
        page.get_by_role("tab", name="Check a clip").click()
        page.locator("#hvs-check").click()
        page.locator("#hvs-check-result").get_by_text("Upload or record a clip first").wait_for(timeout=30_000)
        assert _toasts(page) == 0


def test_try_an_example_hears_a_preset_voice_in_one_click(studio, browser, output_dir):  # noqa: F811
    url, _ = studio
    with _studio_page(browser, url, output_dir, width=390) as page:
        page.locator("#hvs-example").click()  # the one action
        page.locator("#hvs-info").get_by_text("real-time factor").wait_for(timeout=120_000)
        assert page.locator("#hvs-text textarea").input_value().startswith("Hello! This is Higgs Voice Studio")
        label = page.locator("#hvs-output [data-testid='block-label']").inner_text()
        assert "Robot" in label and page.locator(".hvs-history:visible").count() == 0, label
        # the shipped voice says what it is (its license note)
        page.locator("#hvs-voice-note").get_by_text("Not a real person").wait_for(timeout=10_000)


@pytest.mark.parametrize("width", [390, 1400])
def test_the_api_is_linked_on_every_screen(studio, browser, output_dir, width):  # noqa: F811
    url, _ = studio
    import json
    import urllib.request

    with _studio_page(browser, url, output_dir, width=width) as page:
        footer = page.locator("#hvs-footer")
        footer.scroll_into_view_if_needed()
        assert footer.is_visible()
        panel, docs = footer.get_by_role("link", name="API panel"), footer.get_by_role("link", name="its reference")
        assert panel.is_visible() and docs.is_visible()
        assert panel.get_attribute("href").endswith("?view=api") and docs.get_attribute("href") == "docs"
        page.goto(f"{url}/{docs.get_attribute('href')}")  # (Gradio opens a Markdown link in a new tab)
        page.get_by_role("heading", name="POST /v1/audio/speech").wait_for(timeout=30_000)
        assert "reference_audio" in page.content()
    with urllib.request.urlopen(f"{url}/v1/openapi.json", timeout=10) as response:
        schema = json.loads(response.read())
    assert "/v1/audio/speech" in schema["paths"] and "SpeechBody" in schema["components"]["schemas"]
    with urllib.request.urlopen(f"{url}/gradio_api/info", timeout=10) as response:
        info = json.loads(response.read())
    example = info["named_endpoints"]["/detect"]["parameters"][0]["example_input"]
    assert "robot_en.wav" in json.dumps(example) and ".pdf" not in json.dumps(example)


def test_the_text_comes_back_after_a_reload(studio, browser, output_dir):  # noqa: F811
    url, _ = studio
    with _studio_page(browser, url, output_dir) as page:
        page.locator("#hvs-text textarea").fill("Words worth keeping.")
        page.wait_for_timeout(1_000)  # BrowserState writes localStorage after the event
        page.reload()
        page.wait_for_function(
            "() => document.querySelector('#hvs-text textarea')?.value === 'Words worth keeping.'", timeout=30_000)


def test_a_text_file_gets_the_studios_sentence_only_and_never_lets_another_voice_speak(  # noqa: F811
        studio, browser, output_dir, tmp_path):  # noqa: F811
    """A .txt upload: before, Gradio's own toast listed 14 file types (the file never reached the studio) and
    Generate, consent ticked, quietly used the smart voice. Now the studio's plain sentence is the one message,
    picked or dropped, and Generate refuses."""
    url, _ = studio
    notes = tmp_path / "notes.txt"
    notes.write_text("Not a recording.")
    with _studio_page(browser, url, output_dir) as page:
        _refused_on_arrival(page, notes)
        assert _toasts(page) == 0 and "Invalid file type" not in page.content()
        # dropped onto the box, the same: the sentence, no toast
        page.locator("#hvs-text textarea").fill("Who speaks?")  # (clears the sentence: it is about the last input)
        page.wait_for_function("() => !document.querySelector('#hvs-status').innerText.includes('⚠️')",
                               timeout=10_000)
        page.evaluate("""() => { const list = new DataTransfer();
            list.items.add(new File(['Not a recording.'], 'dropped.txt', {type: 'text/plain'}));
            document.querySelector('#hvs-clip .upload-container, #hvs-clip button, #hvs-clip')
              .dispatchEvent(new DragEvent('drop', {dataTransfer: list, bubbles: true, cancelable: true})); }""")
        page.locator("#hvs-status").get_by_text("This file is not audio we can read").wait_for(timeout=30_000)
        assert _toasts(page) == 0
        _no_clip_no_take(page)
        page.screenshot(path=str(output_dir / "text-file.png"), full_page=True)
